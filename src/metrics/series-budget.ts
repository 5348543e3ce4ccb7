/** The label value every name beyond a project's budget is folded into. */
export const OTHER = '_other';

/** How many distinct folded names per project and kind are remembered (so each is counted once). */
export const FOLDED_NAMES_TRACKED = 100_000;

/**
 * Bounds the label values of one kind (domains, carousel tasks) per project: the first `max`
 * distinct names seen keep their own value, every later one folds into OTHER. `onFold` is called
 * once per distinct folded name (up to FOLDED_NAMES_TRACKED of them per project).
 */
export class SeriesBudget {
  private readonly kept = new Map<string, Set<string>>();
  private readonly folded = new Map<string, Set<string>>();

  constructor(
    private readonly max: number,
    private readonly onFold: (project: string) => void,
  ) {}

  /** The label value for `name` in `project`: the name itself, or OTHER once the budget is spent. */
  label(project: string, name: string): string {
    let kept = this.kept.get(project);
    if (kept === undefined) {
      kept = new Set();
      this.kept.set(project, kept);
    }
    if (kept.has(name)) return name;
    if (kept.size < this.max) {
      kept.add(name);
      return name;
    }
    let folded = this.folded.get(project);
    if (folded === undefined) {
      folded = new Set();
      this.folded.set(project, folded);
    }
    if (!folded.has(name) && folded.size < FOLDED_NAMES_TRACKED) {
      folded.add(name);
      this.onFold(project);
    }
    return OTHER;
  }
}
