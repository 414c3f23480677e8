export {
  addDuration,
  parseDuration,
  MAX_TIMER_DURATION_MS,
  MIN_TIMER_DURATION_MS,
  type Duration,
  type DurationResult,
} from './duration';
export { parseRfc3339 } from './rfc3339';
export { timerRules, timedTransitionErrors, type TimerRule, type TimerRules } from './timer-rules';
export {
  planTimers,
  type TimerPlan,
  type TokenTimer,
  type TokenTimers,
  type UnarmedTimer,
} from './plan-timers';
export { mayFire, type FireVerdict } from './may-fire';
export { diffTimers } from './diff-timers';
export { timerFireKey } from './fire-key';
