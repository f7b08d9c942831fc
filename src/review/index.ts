/**
 * The pull-request gate's pure parts: the matrix legs a submission needs,
 * each leg's report artifact read as untrusted data, one report per version
 * from its legs, and the registry's quality gates over it.
 */
export { legArtifactName, legReportPath, legTargets, MAX_LEGS, parsePackageRef, planLegs, type Leg } from './plan.js'
export { readLegReport, REPORT_LIMITS, type ReadReport, type ReportLimits } from './artifact.js'
export { combineReports, type LegReport } from './combine.js'
export { artifactBytes, blockingGates, evaluateGates, GATE_IDS, targetPassed, waiverLabel, type GateResult } from './gates.js'
export { pullRequestNamed, readRunReports, validatedReports, versionReportPath, VERSION_REPORT_FILE, type RunReports, type ValidatedReport, type ValidatedReports, type ValidatedReportsOptions } from './run-reports.js'
