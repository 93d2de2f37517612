export {
  type Baseline,
  baselineFrom,
  type HourlyCount,
  RECENT_HOURS,
} from './baseline.ts';
export {
  createSurgeDetector,
  INTENT_SHARE as SURGE_INTENT_SHARE,
  rebuildFrom,
  type SurgeDetector,
  type SurgeDetectorOptions,
  type SurgeMatch,
  type SurgeState,
  type SurgeSummary,
  type SurgeVerdict,
} from './detector.ts';
export { signatureOf, similarity } from './signature.ts';
