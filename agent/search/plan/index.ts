/**
 * The search plan of a beam: which DMs to dedisperse in which prepsubband passes,
 * and which candidates to fold with which prepfold options.
 *
 *   ddplans   PALFA_MOCK_PLAN / PALFA_WAPP_PLAN / chooseDDplan / planDmRange / PlanError
 *   derive    derivePlan / derivedPlanSteps / formatDDplanOutput / chooseDownsamps (DDplan.py port)
 *   passes    expandPasses / planProblems / formatDm (PALFA's search_job loop)
 *   choose-n  chooseN (psr_utils.choose_N, for -numout)
 *   folding   foldOptionsForPeriod / foldNsub / prepfoldArgs
 *
 * Which candidates are folded is shared/search/fold-selection.ts (the uploader applies it too).
 */

export {
  type ChooseOptions,
  type ChosenPlan,
  PALFA_MOCK_PLAN,
  PALFA_WAPP_PLAN,
  type PlanHeader,
  PlanError,
  type PlanSource,
  chooseDDplan,
  planDmRange,
} from "./ddplans";
export {
  type DerivePlanInput,
  type DerivedMethod,
  type DerivedPlan,
  type SmearingModel,
  chooseDownsamps,
  derivePlan,
  derivedPlanSteps,
  formatDDplanOutput,
} from "./derive";
export { type Pass, type PassDataShape, type PrepsubbandPass, expandPasses, formatDm, planProblems } from "./passes";
export { chooseN } from "./choose-n";
export {
  type FoldOptions,
  type PrepfoldCommand,
  type PrepfoldRequest,
  foldNsub,
  foldOptionsForPeriod,
  prepfoldArgs,
} from "./folding";
