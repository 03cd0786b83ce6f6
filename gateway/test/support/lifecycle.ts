// Run as its own process by gateway.test.ts: starts everything, serves a query, closes everything and then must
// exit on its own. A leaked socket, timer or pool keeps the event loop alive and the test sees a timeout.
import { postGraphQL, startStack } from './stack.js';

const stack = await startStack();
const response = await postGraphQL(`${stack.gateway.url}/graphql`, '{ platformInfo { name } appTemplate(id: "t1") { id } }');
await stack.close();
process.stdout.write(`served ${response.status} ${JSON.stringify(response.body.data)}\n`);
