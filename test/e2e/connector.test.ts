import { defineConnectorTests } from './connectorSuite';

// Functions run on the host's own thread, as when FUNCTIONS_WORKER_PROCESS_COUNT is not set.
defineConnectorTests({});
