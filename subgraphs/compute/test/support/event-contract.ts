import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const ASYNCAPI = fileURLToPath(new URL('../../../../doc/api/asyncapi.yaml', import.meta.url));

interface AsyncApiDocument {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
}

let checker: ((subject: string, payload: unknown) => string[]) | undefined;

/** Problems of an event envelope against the AsyncAPI message of `subject` (empty when it conforms). */
export function eventContractProblems(subject: string, envelope: unknown): string[] {
  checker ??= build();
  return checker(subject, envelope);
}

function build() {
  const document = parse(readFileSync(ASYNCAPI, 'utf8')) as AsyncApiDocument;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
  ajv.addSchema(document as object, 'asyncapi');
  // A message's payload schema is the whole envelope: EventEnvelope with the subject's payload schema inside.
  const payloadRefBySubject = new Map<string, string>();
  for (const channel of Object.values(document.channels)) {
    for (const message of Object.values(channel.messages)) payloadRefBySubject.set(channel.address, `${message.$ref}/payload`);
  }
  return (subject: string, payload: unknown): string[] => {
    const ref = payloadRefBySubject.get(subject);
    if (!ref) return [`no AsyncAPI channel for ${subject}`];
    const validate = ajv.getSchema(`asyncapi${ref}`);
    if (!validate) return [`cannot compile ${ref}`];
    return validate(payload) ? [] : (validate.errors ?? []).map((error) => `${subject} ${error.instancePath} ${error.message}`);
  };
}
