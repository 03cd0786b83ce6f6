/** The platform's clock, so clients can measure skew before showing countdowns (billing runway, token expiry). */
export const serverTime = (): Date => new Date();
