export { startStripeApiServer, type RecordedRequest, type StripeApiServer, type StripeEvent, type StripeObject } from './server.js';
export { parseStripeForm, type FormObject, type FormValue } from './form.js';
