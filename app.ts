/**
 * Entry point of the Functions app (package.json `main` points at its compiled file).
 * Importing each function file registers that function. The connectors file is
 * validated here, so an invalid file stops start-up with a ConfigurationError.
 */
import { loadConfiguration } from './lib/dependencies';

import './triggers/ingest';
import './triggers/messageStatus';
import './triggers/changes';
import './triggers/quarantine';
import './triggers/destinations';
import './triggers/messages';
import './triggers/replays';
import './triggers/bulkReplays';
import './triggers/health';
import './triggers/lifecycleEvents';
import './orchestrators/processMessage';
import './orchestrators/deliverToDestination';
import './orchestrators/bulkReplay';
import './orchestrators/runDataFactoryTransform';
import './activities/recordMessage';
import './activities/writeAudit';
import './activities/readEntityVersion';
import './activities/transformPayload';
import './activities/mirrorEntityState';
import './activities/deliverPayload';
import './activities/recordDelivery';
import './activities/recordMessageOutcome';
import './activities/notifyQueueTurn';
import './activities/takeReplayPage';
import './activities/startReplays';
import './activities/finishBulkReplay';
import './activities/startPipelineRun';
import './activities/readPipelineRun';
import './activities/checkPipelineOutput';
import './entities/trackedEntity';
import './entities/destinationCircuit';
import './entities/deliveryQueue';

loadConfiguration();
