using System.Numerics.Tensors;

namespace ConvKit.Optim;

/// <summary>How <see cref="LBFGS"/> chooses the length of each step along its search direction.</summary>
public enum LineSearch
{
    /// <summary>A fixed step: lr (on the very first iteration, min(1, 1/‖g‖₁)·lr).</summary>
    None,
    /// <summary>A line search satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9, at most 25 evaluations).</summary>
    StrongWolfe,
}

/// <summary>
/// Limited-memory BFGS, as torch.optim.LBFGS in PyTorch 1.13: each <see cref="Step(Func{float})"/> runs up to
/// <c>maxIter</c> quasi-Newton iterations on all parameters viewed as one flat vector (a parameter without a
/// gradient counts as zeros), re-evaluating the loss through a closure, and stops early when the gradient's largest
/// element is at most <c>toleranceGrad</c>, when a step or the change of the loss falls below <c>toleranceChange</c>,
/// or when <c>maxEval</c> closure calls have been spent. The curvature history, the last direction and step, and
/// the iteration and evaluation counts carry over from one call to the next, so repeated calls continue one run.
/// Vectors are float32 and their dot products float32 scalars, as in PyTorch; the line search's scalars are doubles.
/// Like PyTorch it takes a single parameter group. <see cref="Optimizer.StateDict"/> saves the hyper-parameters
/// (<c>options.*</c> and the group's lr) but not the history: unlike PyTorch, a restored LBFGS starts afresh.
/// </summary>
public sealed class LBFGS : Optimizer
{
    // Constants of PyTorch's strong Wolfe search; its bracket test uses the default tolerance_change, not the optimiser's.
    const double SufficientDecrease = 1e-4, Curvature = 0.9, BracketTolerance = 1e-9;
    const int MaxLineSearchEvaluations = 25;

    readonly Tensor[] parameters;
    readonly int numel;
    int maxIter, maxEval, historySize;
    double toleranceGrad, toleranceChange;

    // The run so far (PyTorch's state d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss).
    float[]? direction;
    double stepLength;
    readonly List<float[]> gradientChanges = [], parameterChanges = [];
    readonly List<float> curvatures = [];
    float hessianScale = 1;
    float[]? previousGradient;
    double previousLoss;

    /// <summary>L-BFGS over <paramref name="parameters"/> (one group), with torch.optim.LBFGS's defaults (maxEval: maxIter·5/4).</summary>
    public LBFGS(IEnumerable<Tensor> parameters, double lr = 1, int maxIter = 20, int? maxEval = null,
        double toleranceGrad = 1e-7, double toleranceChange = 1e-9, int historySize = 100, LineSearch lineSearch = LineSearch.None)
        : base(OneGroup(parameters), CheckLearningRate(lr), weightDecay: 0)
    {
        this.parameters = ParameterGroups[0].Parameters.ToArray();
        numel = this.parameters.Sum(p => p.Numel);
        Configure(maxIter, maxEval ?? (int)Math.Min(int.MaxValue, maxIter * 5L / 4), toleranceGrad, toleranceChange, historySize, lineSearch);
    }

    /// <summary>Iterations one <c>Step</c> may take.</summary>
    public int MaxIter => maxIter;
    /// <summary>Closure calls one step may make before it stops (a line search may overrun it within its iteration).</summary>
    public int MaxEval => maxEval;
    /// <summary>Stop when the gradient's largest absolute element is at most this. Kept at float32 precision.</summary>
    public double ToleranceGrad => toleranceGrad;
    /// <summary>Stop when the loss or the parameters change less than this. Kept at float32 precision.</summary>
    public double ToleranceChange => toleranceChange;
    /// <summary>Number of past (gradient change, parameter change) pairs kept to approximate the inverse Hessian.</summary>
    public int HistorySize => historySize;
    /// <summary>Fixed steps, or the strong Wolfe line search.</summary>
    public LineSearch LineSearch { get; private set; }

    /// <summary>Iterations run over all steps so far (PyTorch's state n_iter).</summary>
    public long Iterations { get; private set; }
    /// <summary>Closure calls over all steps so far (PyTorch's state func_evals).</summary>
    public long FunctionEvaluations { get; private set; }

    static double CheckLearningRate(double lr) => lr > 0 && double.IsFinite(lr) ? lr
        : throw new ArgumentOutOfRangeException(nameof(lr), lr, $"LBFGS: lr must be a finite number > 0, not {lr}.");

    void Configure(int maxIter, int maxEval, double toleranceGrad, double toleranceChange, int historySize, LineSearch lineSearch)
    {
        CheckAtLeastOne(maxIter, nameof(maxIter));
        CheckAtLeastOne(maxEval, nameof(maxEval));
        CheckAtLeastOne(historySize, nameof(historySize));
        CheckNonNegative(toleranceGrad, nameof(toleranceGrad));
        CheckNonNegative(toleranceChange, nameof(toleranceChange));
        if (!Enum.IsDefined(lineSearch))
            throw new ArgumentOutOfRangeException(nameof(lineSearch), lineSearch, $"{Name}: lineSearch must be None or StrongWolfe, not {lineSearch}.");
        this.maxIter = maxIter;
        this.maxEval = maxEval;
        this.toleranceGrad = (float)toleranceGrad;
        this.toleranceChange = (float)toleranceChange;
        this.historySize = historySize;
        LineSearch = lineSearch;
    }

    void CheckAtLeastOne(int value, string name)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{Name}: {name} must be at least 1, not {value}.");
    }

    /// <summary>Always throws: L-BFGS re-evaluates the loss several times per step, so it needs <see cref="Step(Func{float})"/>.</summary>
    public override void Step() => throw NeedsClosure();

    /// <inheritdoc/>
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state) => throw NeedsClosure();

    InvalidOperationException NeedsClosure() => new(
        $"{Name} re-evaluates the loss several times per step and needs a closure: call Step(closure), where the closure zeroes the gradients, computes the loss, calls Backward and returns the loss.");

    /// <summary>
    /// Runs up to <see cref="MaxIter"/> iterations. <paramref name="closure"/> must zero the gradients, compute the
    /// loss, call Backward on it and return its value; it runs with gradient recording on. Returns the loss of its
    /// first call, at the parameters this step started from (as PyTorch's step does).
    /// </summary>
    public float Step(Func<float> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        double lr = ParameterGroups[0].LearningRate;
        // PyTorch compares its float32 tensor values with the tolerances in float32.
        float gradTolerance = (float)toleranceGrad, changeTolerance = (float)toleranceChange;

        float firstLoss = Evaluate(closure);
        double loss = firstLoss;
        int evaluations = 1;
        FunctionEvaluations++;
        var gradient = FlatGradient();
        if (MaxAbs(gradient) <= gradTolerance) return firstLoss;

        for (int iteration = 1; iteration <= maxIter; iteration++)
        {
            Iterations++;
            if (Iterations == 1)
            {
                direction = Negated(gradient);
                gradientChanges.Clear();
                parameterChanges.Clear();
                curvatures.Clear();
                hessianScale = 1;
            }
            else
            {
                Remember(gradient);
                direction = TwoLoopDirection(gradient);
            }
            previousGradient ??= new float[numel];
            gradient.CopyTo(previousGradient, 0);
            previousLoss = loss;

            if (Iterations == 1)
            {
                float inverseGradSum = 1f / TensorPrimitives.SumOfMagnitudes<float>(gradient);
                stepLength = inverseGradSum < 1f ? inverseGradSum * (float)lr : lr;
            }
            else stepLength = lr;

            float directional = TensorPrimitives.Dot<float>(gradient, direction);
            if (directional > -changeTolerance) break;

            int lineEvaluations;
            bool optimal = false;
            if (LineSearch == LineSearch.StrongWolfe)
            {
                (loss, gradient, stepLength, lineEvaluations) = StrongWolfe(closure, direction, stepLength, loss, gradient, directional);
                AddToParameters(stepLength, direction);
                optimal = MaxAbs(gradient) <= gradTolerance;
            }
            else
            {
                AddToParameters(stepLength, direction);
                lineEvaluations = 0;
                if (iteration != maxIter)
                {
                    loss = Evaluate(closure);
                    gradient = FlatGradient();
                    optimal = MaxAbs(gradient) <= gradTolerance;
                    lineEvaluations = 1;
                }
            }
            evaluations += lineEvaluations;
            FunctionEvaluations += lineEvaluations;

            if (iteration == maxIter || evaluations >= maxEval || optimal) break;
            if ((float)stepLength * MaxAbs(direction) <= changeTolerance) break;
            if (Math.Abs(loss - previousLoss) < toleranceChange) break;
        }
        return firstLoss;
    }

    /// <summary>Adds the last step's curvature pair to the history if it is positive enough, and rescales the initial Hessian.</summary>
    void Remember(float[] gradient)
    {
        var y = new float[numel];
        TensorPrimitives.Subtract<float>(gradient, previousGradient!, y);
        var s = new float[numel];
        TensorPrimitives.Multiply<float>(direction!, (float)stepLength, s);
        float ys = TensorPrimitives.Dot<float>(y, s);
        if (!(ys > 1e-10f)) return;
        if (gradientChanges.Count == historySize) Forget();
        gradientChanges.Add(y);
        parameterChanges.Add(s);
        curvatures.Add(1f / ys);
        hessianScale = ys / TensorPrimitives.Dot<float>(y, y);
    }

    void Forget()
    {
        gradientChanges.RemoveAt(0);
        parameterChanges.RemoveAt(0);
        curvatures.RemoveAt(0);
    }

    /// <summary>−H·g for the inverse Hessian approximation H built from the history (the two-loop recursion).</summary>
    float[] TwoLoopDirection(float[] gradient)
    {
        int count = gradientChanges.Count;
        var alphas = new float[count];
        var q = Negated(gradient);
        for (int i = count - 1; i >= 0; i--)
        {
            alphas[i] = TensorPrimitives.Dot<float>(parameterChanges[i], q) * curvatures[i];
            TensorPrimitives.FusedMultiplyAdd(gradientChanges[i], -alphas[i], q, q);
        }
        TensorPrimitives.Multiply(q, hessianScale, q);
        for (int i = 0; i < count; i++)
        {
            float beta = TensorPrimitives.Dot<float>(gradientChanges[i], q) * curvatures[i];
            TensorPrimitives.FusedMultiplyAdd(parameterChanges[i], alphas[i] - beta, q, q);
        }
        return q;
    }

    /// <summary>
    /// Finds a step length along <paramref name="d"/> meeting the strong Wolfe conditions, from <paramref name="t"/>:
    /// first a bracket (growing the step by cubic extrapolation), then zooming in on it by cubic interpolation.
    /// Leaves the parameters where they were; returns the loss and gradient at the step found and the closure calls made.
    /// </summary>
    (double Loss, float[] Gradient, double Step, int Evaluations) StrongWolfe(
        Func<float> closure, float[] d, double t, double f, float[] g, float gtd)
    {
        float dNorm = MaxAbs(d);
        var start = ReadParameters();
        int evaluations = 0;
        (double Loss, float[] Gradient, float Slope) Probe(double step)
        {
            AddToParameters(step, d);
            double loss = Evaluate(closure);
            var gradient = FlatGradient();
            WriteParameters(start);
            evaluations++;
            return (loss, gradient, TensorPrimitives.Dot<float>(gradient, d));
        }
        bool Armijo(double loss, double step) => loss > (float)f + (float)(SufficientDecrease * step) * gtd;
        bool Flat(float slope) => Math.Abs(slope) <= (float)-Curvature * gtd;

        var (fNew, gNew, gtdNew) = Probe(t);
        double tPrev = 0, fPrev = f;
        float[] gPrev = g;
        float gtdPrev = gtd;
        // The bracket: two points (low and high) or, once done, one point meeting the conditions.
        double[] bracket;
        double[] bracketF;
        float[][] bracketG;
        float[] bracketGtd = [float.NaN, float.NaN];
        bool done = false;
        int iterations = 0;
        while (true)
        {
            if (iterations == MaxLineSearchEvaluations)
            {
                (bracket, bracketF, bracketG) = ([0, t], [f, fNew], [g, gNew]);
                break;
            }
            bool pastMinimum = Armijo(fNew, t) || (iterations > 1 && fNew >= fPrev);
            if (!pastMinimum && Flat(gtdNew))
            {
                (bracket, bracketF, bracketG) = ([t], [fNew], [gNew]);
                done = true;
                break;
            }
            if (pastMinimum || gtdNew >= 0)
            {
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }
            double minStep = t + 0.01 * (t - tPrev), maxStep = t * 10;
            double next = CubicMinimum(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            (tPrev, fPrev, gPrev, gtdPrev) = (t, fNew, gNew, gtdNew);
            t = next;
            (fNew, gNew, gtdNew) = Probe(t);
            iterations++;
        }

        bool insufficientProgress = false;
        int low = bracketF[0] <= bracketF[^1] ? 0 : 1, high = 1 - low;
        while (!done && iterations < MaxLineSearchEvaluations)
        {
            if ((float)Math.Abs(bracket[1] - bracket[0]) * dNorm < (float)BracketTolerance) break;
            t = CubicMinimum(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1], null);

            // Too close to an end of the bracket twice running, or outside it: move to a tenth of its width inside.
            double upper = Max(bracket[0], bracket[1]), lower = Min(bracket[0], bracket[1]);
            double margin = 0.1 * (upper - lower);
            if (Min(upper - t, t - lower) < margin)
            {
                if (insufficientProgress || t >= upper || t <= lower)
                {
                    t = Math.Abs(t - upper) < Math.Abs(t - lower) ? upper - margin : lower + margin;
                    insufficientProgress = false;
                }
                else insufficientProgress = true;
            }
            else insufficientProgress = false;

            (fNew, gNew, gtdNew) = Probe(t);
            iterations++;
            if (Armijo(fNew, t) || fNew >= bracketF[low])
            {
                (bracket[high], bracketF[high], bracketG[high], bracketGtd[high]) = (t, fNew, gNew, gtdNew);
                low = bracketF[0] <= bracketF[1] ? 0 : 1;
                high = 1 - low;
            }
            else
            {
                if (Flat(gtdNew)) done = true;
                else if (gtdNew * (float)(bracket[high] - bracket[low]) >= 0)
                    (bracket[high], bracketF[high], bracketG[high], bracketGtd[high]) = (bracket[low], bracketF[low], bracketG[low], bracketGtd[low]);
                (bracket[low], bracketF[low], bracketG[low], bracketGtd[low]) = (t, fNew, gNew, gtdNew);
            }
        }
        return (bracketF[low], bracketG[low], bracket[low], evaluations);
    }

    /// <summary>
    /// The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
    /// <paramref name="bounds"/> (by default the interval between x1 and x2); the interval's middle if the cubic has none.
    /// The slopes are float32, as the arithmetic mixing them (done in float32 in PyTorch).
    /// </summary>
    static double CubicMinimum(double x1, double f1, float g1, double x2, double f2, float g2, (double Min, double Max)? bounds)
    {
        var (lower, upper) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        float d1 = g1 + g2 - (float)(3 * (f1 - f2) / (x1 - x2));
        float d2Square = d1 * d1 - g1 * g2;
        if (!(d2Square >= 0)) return (lower + upper) / 2;
        float d2 = MathF.Sqrt(d2Square);
        double minimum = x1 <= x2
            ? (float)x2 - (float)(x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            : (float)x1 - (float)(x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return Min(Max(minimum, lower), upper);
    }

    // Python's max and min of two values: the first unless the second is strictly beyond it (so NaN behaves as there).
    static double Max(double a, double b) => b > a ? b : a;
    static double Min(double a, double b) => b < a ? b : a;

    static float MaxAbs(float[] values) => values.Length == 0 ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude<float>(values));

    static float[] Negated(float[] values)
    {
        var negated = new float[values.Length];
        TensorPrimitives.Negate<float>(values, negated);
        return negated;
    }

    static float Evaluate(Func<float> closure)
    {
        using var _ = Autograd.GradMode.Enable();
        return closure();
    }

    /// <summary>All gradients as one vector, parameters in order; a parameter without a gradient contributes zeros.</summary>
    float[] FlatGradient()
    {
        var flat = new float[numel];
        int offset = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            var parameter = parameters[i];
            if (parameter.Grad is { } gradient)
            {
                if (!gradient.Shape.SequenceEqual(parameter.Shape))
                    throw new InvalidOperationException(
                        $"{Name}.Step: parameter {i} has shape {parameter.ShapeString} but its gradient has shape {gradient.ShapeString}.");
                gradient.Backend.CopyTo(gradient.Storage, flat.AsSpan(offset, parameter.Numel));
            }
            offset += parameter.Numel;
        }
        return flat;
    }

    float[] ReadParameters()
    {
        var flat = new float[numel];
        int offset = 0;
        foreach (var parameter in parameters)
        {
            parameter.Backend.CopyTo(parameter.Storage, flat.AsSpan(offset, parameter.Numel));
            offset += parameter.Numel;
        }
        return flat;
    }

    void WriteParameters(float[] flat)
    {
        int offset = 0;
        foreach (var parameter in parameters)
        {
            var values = parameter.Backend.FromArray(flat.AsSpan(offset, parameter.Numel));
            parameter.Backend.Copy(values, parameter.Storage);
            parameter.Storage.BumpVersion();
            offset += parameter.Numel;
        }
    }

    /// <summary>parameters += step·d, in float32 with a fused multiply-add (as PyTorch's vectorised add_ with alpha).</summary>
    void AddToParameters(double step, float[] d)
    {
        var values = ReadParameters();
        TensorPrimitives.FusedMultiplyAdd(d, (float)step, values, values);
        WriteParameters(values);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> BufferNames => [];

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, double> GetOptions() => new Dictionary<string, double>
    {
        ["max_iter"] = maxIter,
        ["max_eval"] = maxEval,
        ["tolerance_grad"] = toleranceGrad,
        ["tolerance_change"] = toleranceChange,
        ["history_size"] = historySize,
        ["line_search"] = LineSearch == LineSearch.StrongWolfe ? 1 : 0,
    };

    /// <summary>Restores the hyper-parameters and, since the history is not in a state dict, starts the run afresh.</summary>
    protected override void SetOptions(IReadOnlyDictionary<string, double> options)
    {
        Configure(Count(options, "max_iter"), Count(options, "max_eval"), options["tolerance_grad"], options["tolerance_change"],
            Count(options, "history_size"), Flag(options, "line_search") ? LineSearch.StrongWolfe : LineSearch.None);
        direction = previousGradient = null;
        gradientChanges.Clear();
        parameterChanges.Clear();
        curvatures.Clear();
        hessianScale = 1;
        Iterations = FunctionEvaluations = 0;
    }

    static int Count(IReadOnlyDictionary<string, double> options, string name) =>
        options[name] is var value && value == Math.Floor(value) && value >= 1 && value <= int.MaxValue ? (int)value
            : throw new ArgumentException($"option '{name}' must be a whole number ≥ 1, not {value}");
}
