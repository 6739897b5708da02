// Flows to start from in the editor: each valid as written (a Vitest test validates their shape;
// the end-to-end test posts one to the real validator).

export interface Template {
  id: string;
  label: string;
  description: string;
  yaml: string;
}

export const BLANK = `# A new flow. Drag actions from the palette, or type here.
name: New flow
steps: []
`;

export const TEMPLATES: Template[] = [
  {
    id: "quickstart",
    label: "Quickstart",
    description: "A mock API in setup, one request, assertions and a capture.",
    yaml: `# Quickstart: starts its own mock API, so it needs no services.
name: Quickstart
tags: [quickstart]
setup:
  - id: api
    action: mock_server_start
    config:
      name: quickstart-api
      endpoints:
        - method: GET
          path: /hello
          response: {body_json: {message: hello, id: 7}}
steps:
  - id: hello
    action: http_request
    config:
      url: \${api.base_url}/hello
    assert:
      - status == 200
      - body.message == "hello"
    output:
      greeting_id: $.body.id
teardown:
  - action: mock_server_stop
    config: {name: quickstart-api}
`,
  },
  {
    id: "crud",
    label: "CRUD check",
    description: "Create, read, update and delete a resource over HTTP.",
    yaml: `# CRUD: set BASE_URL in the environment.
name: CRUD check
tags: [crud]
steps:
  - id: create
    action: http_request
    config:
      method: POST
      url: \${BASE_URL}/items
      body: {name: widget}
    assert: [status == 201]
    output: {item_id: $.body.id}
  - id: read
    action: http_request
    config: {url: "\${BASE_URL}/items/\${item_id}"}
    assert: [status == 200, body.name == "widget"]
  - id: update
    action: http_request
    config:
      method: PUT
      url: \${BASE_URL}/items/\${item_id}
      body: {name: gadget}
    assert: [status == 200]
teardown:
  - id: delete
    action: http_request
    config: {method: DELETE, url: "\${BASE_URL}/items/\${item_id}"}
    assert: [status < 300]
`,
  },
  {
    id: "database",
    label: "DB-backed check",
    description: "Call the API, then check the row it wrote in PostgreSQL.",
    yaml: `# DB-backed: the environment gives BASE_URL and the database connection.
name: DB-backed check
tags: [database]
steps:
  - id: signup
    action: http_request
    config:
      method: POST
      url: \${BASE_URL}/users
      body: {email: ada@example.com}
    assert: [status == 201]
    output: {user_id: $.body.id}
  - id: stored
    action: database_query
    config:
      query: SELECT email FROM users WHERE id = $1
      params: ["\${user_id}"]
    assert:
      - row_count == 1
      - rows[0].email == "ada@example.com"
`,
  },
  {
    id: "event",
    label: "Event check",
    description: "Trigger an action and wait for the event it publishes.",
    yaml: `# Event: the API publishes an order event on Redis Streams.
name: Event check
tags: [events]
steps:
  - id: order
    action: http_request
    config:
      method: POST
      url: \${BASE_URL}/orders
      body: {sku: A-1}
    assert: [status == 201]
    output: {order_id: $.body.id}
  - id: published
    action: redis.xread
    config:
      url: \${REDIS_URL}
      stream: orders
      match: {order_id: "\${order_id}"}
      timeout: 10s
    assert: [count >= 1]
`,
  },
];
