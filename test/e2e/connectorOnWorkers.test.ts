import { defineConnectorTests } from './connectorSuite';

// Functions run on two worker threads, with their durable clients served through the host.
defineConnectorTests({ FUNCTIONS_WORKER_PROCESS_COUNT: '2' });
