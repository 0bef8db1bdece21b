namespace ConvKit.Optim.Schedules;

/// <summary>
/// Base of the learning-rate schedules: sets the optimiser's learning rates (per group) as a function of a
/// step counter, <see cref="LastEpoch"/>. Construction applies step 0; each <see cref="Step"/> advances one —
/// call it after <see cref="Optimizer.Step"/>, once per epoch or per batch as the schedule is meant.
/// The values follow PyTorch 1.13's closed forms.
/// </summary>
public abstract class LRScheduler
{
    double[] baseLearningRates;
    double[] lastLearningRates = [];

    /// <summary>Records each group's current learning rate as its base; the derived class then applies step 0.</summary>
    protected LRScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer;
        baseLearningRates = optimizer.ParameterGroups.Select(g => g.LearningRate).ToArray();
    }

    /// <summary>The optimiser whose learning rates this schedule sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>How many times <see cref="Step"/> has been called (PyTorch's <c>last_epoch</c>).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>Each group's learning rate when the schedule was made.</summary>
    public IReadOnlyList<double> BaseLearningRates => baseLearningRates;

    /// <summary>The learning rates the schedule last gave each group.</summary>
    public IReadOnlyList<double> LastLearningRates => lastLearningRates;

    /// <summary>The first group's entry of <see cref="LastLearningRates"/>.</summary>
    public double LastLearningRate => lastLearningRates[0];

    /// <summary>Advances the schedule by one step and sets the learning rates of that step.</summary>
    public void Step()
    {
        CheckCanReach(LastEpoch + 1);
        LastEpoch++;
        Apply();
    }

    /// <summary>The learning rate at <paramref name="epoch"/> of a group that started at <paramref name="baseLearningRate"/>.</summary>
    protected abstract double LearningRateAt(int epoch, double baseLearningRate);

    /// <summary>Throws if the schedule is not defined at <paramref name="epoch"/>.</summary>
    protected virtual void CheckCanReach(int epoch) { }

    /// <summary>Sets the optimiser to the schedule's values at <see cref="LastEpoch"/>; constructors end with it.</summary>
    protected virtual void Apply()
    {
        var groups = Optimizer.ParameterGroups;
        for (int g = 0; g < groups.Count; g++) groups[g].LearningRate = LearningRateAt(LastEpoch, baseLearningRates[g]);
        lastLearningRates = groups.Select(g => g.LearningRate).ToArray();
    }

    /// <summary>The schedule's name for error messages.</summary>
    protected string Name => GetType().Name;

    /// <summary><c>last_epoch</c> and <c>base_lrs.{g}</c> as one-element float32 tensors, for a checkpoint.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor> { ["last_epoch"] = Tensor.Scalar(LastEpoch) };
        for (int g = 0; g < baseLearningRates.Length; g++) state[$"base_lrs.{g}"] = Tensor.Scalar((float)baseLearningRates[g]);
        return state;
    }

    /// <summary>
    /// Restores a <see cref="StateDict"/> and sets the optimiser to the schedule's values at the restored step.
    /// A missing, unexpected or malformed entry throws an <see cref="ArgumentException"/> naming it.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        int epoch = (int)StateNumbers.ReadCount(state, "last_epoch", Invalid);
        var bases = Enumerable.Range(0, baseLearningRates.Length).Select(g => StateNumbers.Read(state, $"base_lrs.{g}", Invalid)).ToArray();
        if (bases.Any(b => !(b >= 0 && double.IsFinite(b)))) throw Invalid("base learning rates must be finite and ≥ 0");
        var expected = Enumerable.Range(0, bases.Length).Select(g => $"base_lrs.{g}").Append("last_epoch").ToHashSet();
        var unexpected = state.Keys.Where(k => !expected.Contains(k)).ToList();
        if (unexpected.Count > 0) throw Invalid($"unexpected entries [{string.Join(", ", unexpected)}]");
        try { CheckCanReach(epoch); }
        catch (InvalidOperationException e) { throw Invalid(e.Message); }

        LastEpoch = epoch;
        baseLearningRates = bases;
        Apply();
    }

    ArgumentException Invalid(string problem) => new($"{Name}.LoadStateDict: {problem}.");
}
