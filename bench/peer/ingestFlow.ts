/**
 * Builds the Node-RED flow that the peer runs: `POST /ingest` transforms the request body with a
 * JSONata expression, delivers the result to the target and then responds to the caller.
 *
 * Responses to the caller:
 * - 202 when the target responded with a 2xx status. The body is the target's response body.
 * - 502 when the target responded with another status, or the delivery failed. A delivery times out
 *   after Node-RED's default of 120 s, because the settings leave `httpRequestTimeout` unset.
 * - 500 when the JSONata expression failed on this body. Node-RED itself also responds 500 to a
 *   body that is not valid JSON.
 *
 * The flow uses only core nodes of Node-RED 4.1: `http in`, `change`, `http request`, `switch`,
 * `catch` and `http response`.
 */

/** A node of a Node-RED flow file, as Node-RED stores it in flows.json. */
type FlowNode = Record<string, unknown>;

/** Path of the ingest endpoint, under Node-RED's `httpNodeRoot` of `/`. */
export const ingestPath = '/ingest';

const tabId = 'bench-peer';

/**
 * Wraps an expression written against the request body so that the `change` node, which evaluates
 * JSONata against the whole message, evaluates it against `msg.payload`.
 *
 * NOTE: the result differs from evaluating the expression on the body itself in two known cases.
 * An array body is mapped element by element, and `$$` refers to the message, not to the body.
 */
export function toPayloadExpression(jsonataExpression: string): string {
  return `payload.(\n${jsonataExpression}\n)`;
}

/**
 * Returns the flow as the array that Node-RED reads from its flow file.
 *
 * The `http in` node comes last because Node-RED 4.1 creates the nodes of a flow one after another
 * in file order. The ingest route therefore exists only once every node it sends to exists.
 */
export function buildIngestFlow(targetUrl: string, jsonataExpression: string): FlowNode[] {
  // Node-RED 4.1 treats a node without x and y as a config node, so every node of the flow gets the
  // position that the editor would show it at.
  const onTab = (x: number, y: number): FlowNode => ({ z: tabId, x, y });

  // Express would label a string body text/html.
  const textHeaders = { 'content-type': 'text/plain; charset=utf-8' };

  return [
    { id: tabId, type: 'tab', label: 'Benchmark peer', disabled: false, info: '' },

    {
      ...onTab(300, 100),
      id: 'transform',
      type: 'change',
      name: 'transform the body',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: toPayloadExpression(jsonataExpression), tot: 'jsonata' }],
      wires: [['deliver']],
    },

    {
      ...onTab(500, 100),
      id: 'deliver',
      type: 'http request',
      name: 'deliver to the target',
      method: 'POST',
      ret: 'txt',
      paytoqs: 'ignore',
      url: targetUrl,
      tls: '',
      // Keeps connections to the target open between messages, as an HTTP client pool does.
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      // Sends errors such as a refused connection only to the catch node, so the message does not
      // also continue to the switch and no second response is attempted.
      senderr: true,
      headers: [{ keyType: 'other', keyValue: 'Content-Type', valueType: 'other', valueValue: 'application/json' }],
      wires: [['route-by-status']],
    },

    {
      ...onTab(700, 100),
      id: 'route-by-status',
      type: 'switch',
      name: 'target status is 2xx',
      property: 'statusCode',
      propertyType: 'msg',
      rules: [{ t: 'btwn', v: '200', vt: 'num', v2: '299', v2t: 'num' }, { t: 'else' }],
      checkall: 'false',
      repair: false,
      outputs: 2,
      wires: [['respond-accepted'], ['explain-rejection']],
    },

    { ...onTab(900, 60), id: 'respond-accepted', type: 'http response', name: 'respond 202', statusCode: '202', headers: textHeaders, wires: [] },

    {
      ...onTab(900, 140),
      id: 'explain-rejection',
      type: 'change',
      name: 'explain the rejection',
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: '"The target responded with status " & $string(statusCode) & "."', tot: 'jsonata' },
        { t: 'set', p: 'statusCode', pt: 'msg', to: '502', tot: 'num' },
      ],
      wires: [['respond-error']],
    },

    { ...onTab(300, 220), id: 'catch-delivery', type: 'catch', name: 'delivery failed', scope: ['deliver'], uncaught: false, wires: [['explain-delivery-failure']] },

    {
      ...onTab(500, 220),
      id: 'explain-delivery-failure',
      type: 'change',
      name: 'explain the delivery failure',
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: '"Delivery to the target failed: " & error.message', tot: 'jsonata' },
        { t: 'set', p: 'statusCode', pt: 'msg', to: '502', tot: 'num' },
      ],
      wires: [['respond-error']],
    },

    { ...onTab(300, 300), id: 'catch-transform', type: 'catch', name: 'transform failed', scope: ['transform'], uncaught: false, wires: [['explain-transform-failure']] },

    {
      ...onTab(500, 300),
      id: 'explain-transform-failure',
      type: 'change',
      name: 'explain the transform failure',
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: '"The JSONata expression failed: " & error.message', tot: 'jsonata' },
        { t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' },
      ],
      wires: [['respond-error']],
    },

    // Without a fixed status code, the http response node uses msg.statusCode.
    { ...onTab(1100, 220), id: 'respond-error', type: 'http response', name: 'respond with msg.statusCode', statusCode: '', headers: textHeaders, wires: [] },

    {
      ...onTab(100, 100),
      id: 'ingest',
      type: 'http in',
      name: 'receive a message',
      url: ingestPath,
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['transform']],
    },
  ];
}
