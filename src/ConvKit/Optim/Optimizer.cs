using System.Globalization;

namespace ConvKit.Optim;

/// <summary>
/// Base of the optimisers. Holds the parameter groups and, for each parameter once it has been stepped,
/// its step count and named buffers (momentum, moment estimates). <see cref="Step"/> updates, in place,
/// every parameter whose <see cref="Tensor.Grad"/> is set; parameters are numbered through the groups in
/// order, and that number keys their entries in <see cref="StateDict"/> (<c>state.3.exp_avg</c>), as in PyTorch.
/// The buffers follow their parameter to its backend at the next step after <c>Module.To</c> moved it, so a model
/// can change backends between steps and keep its optimiser.
/// </summary>
public abstract class Optimizer
{
    readonly ParameterGroup[] groups;
    readonly ParameterState?[] states;

    /// <summary>Checks the learning rate and weight decay (non-negative) and takes the groups; a group without its own learning rate or weight decay gets these.</summary>
    protected Optimizer(IEnumerable<ParameterGroup> parameterGroups, double lr, double weightDecay)
    {
        CheckNonNegative(lr, "lr");
        CheckNonNegative(weightDecay, "weightDecay");
        groups = parameterGroups.ToArray();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var group in groups)
        {
            group.ApplyDefaults(lr, weightDecay);
            foreach (var parameter in group.Parameters)
            {
                if (!parameter.IsLeaf)
                    throw new ArgumentException($"{Name}: can only optimise leaf tensors, but one parameter was made by {parameter.GradFn!.Op}.");
                if (!seen.Add(parameter))
                    throw new ArgumentException($"{Name}: a parameter appears more than once in the parameter groups.");
            }
        }
        if (seen.Count == 0) throw new ArgumentException($"{Name}: got an empty parameter list.");
        states = new ParameterState?[seen.Count];
    }

    /// <summary>The single group made of <paramref name="parameters"/>, for the constructors taking plain tensors.</summary>
    protected static IEnumerable<ParameterGroup> OneGroup(IEnumerable<Tensor> parameters) => [new ParameterGroup(parameters)];

    /// <summary>The optimiser's name for error messages.</summary>
    protected string Name => GetType().Name;

    /// <summary>The parameter groups, in the order given; a schedule changes their learning rates.</summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups => groups;

    /// <summary>The first group's learning rate; setting it sets every group's (as schedules do).</summary>
    public double LearningRate
    {
        get => groups[0].LearningRate;
        set
        {
            foreach (var group in groups) group.LearningRate = value;
        }
    }

    /// <summary>Clears every parameter's gradient (to none, so the next backward starts afresh).</summary>
    public void ZeroGrad()
    {
        foreach (var group in groups)
            foreach (var parameter in group.Parameters) parameter.ZeroGrad();
    }

    /// <summary>Updates every parameter that has a gradient, in place; parameters without one are left alone.</summary>
    public virtual void Step()
    {
        using var _ = Tensor.NoGrad();
        int index = 0;
        foreach (var group in groups)
            foreach (var parameter in group.Parameters)
            {
                if (parameter.Grad is { } gradient)
                {
                    if (!gradient.Shape.SequenceEqual(parameter.Shape))
                        throw new InvalidOperationException(
                            $"{Name}.Step: parameter {index} has shape {parameter.ShapeString} but its gradient has shape {gradient.ShapeString}.");
                    var state = states[index] ??= new ParameterState();
                    state.MoveBuffersTo(parameter.Backend);
                    state.Step++;
                    Update(group, parameter, gradient, state);
                    parameter.Storage.BumpVersion();
                }
                index++;
            }
    }

    /// <summary>Applies one step to <paramref name="parameter"/>; <paramref name="state"/>'s step count already includes it.</summary>
    protected abstract void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state);

    /// <summary>Names of every buffer this optimiser may keep per parameter (each shaped like the parameter).</summary>
    protected abstract IReadOnlyList<string> BufferNames { get; }

    /// <summary>Buffers every stepped parameter must have; the others are created when first needed.</summary>
    protected virtual IReadOnlyList<string> RequiredBufferNames => [];

    /// <summary>Optimiser-wide hyper-parameters by PyTorch name (booleans as 0 or 1), for the state dict.</summary>
    protected abstract IReadOnlyDictionary<string, double> GetOptions();

    /// <summary>Restores every value <see cref="GetOptions"/> names; validates them all before changing any.</summary>
    protected abstract void SetOptions(IReadOnlyDictionary<string, double> options);

    /// <summary>What an optimiser keeps for one parameter: how many steps it has taken and buffers shaped like it.</summary>
    protected sealed class ParameterState
    {
        /// <summary>Steps this parameter has taken (Adam's bias correction counts them).</summary>
        public long Step { get; set; }
        /// <summary>The parameter's buffers by PyTorch name (<c>momentum_buffer</c>, <c>exp_avg</c>, ...).</summary>
        public OrderedDictionary<string, Tensor> Buffers { get; } = new();

        /// <summary>The buffer called <paramref name="name"/>, created as zeros shaped like <paramref name="parameter"/> if missing.</summary>
        public Tensor Buffer(string name, Tensor parameter, out bool created)
        {
            created = !Buffers.TryGetValue(name, out var buffer);
            if (created) Buffers[name] = buffer = Tensor.ZerosLike(parameter);
            return buffer!;
        }

        /// <summary>Moves the buffers to <paramref name="backend"/> in place (the parameter's, which <c>Module.To</c> may have changed since the last step).</summary>
        internal void MoveBuffersTo(Backends.IBackend backend)
        {
            foreach (var buffer in Buffers.Values) buffer.MoveTo(backend);
        }
    }

    // ----- state dict -----------------------------------------------------------------------------------

    /// <summary>
    /// A snapshot (copies) of everything needed to resume exactly, as float32 tensors ready for a safetensors
    /// file: per group <c>param_groups.{g}.lr</c>, <c>.weight_decay</c> and <c>.params</c> (how many parameters);
    /// <c>options.{name}</c> for the optimiser-wide hyper-parameters; per stepped parameter <c>state.{i}.step</c>
    /// and <c>state.{i}.{buffer}</c>. Numbers and counts are one-element tensors (counts exact below 2²⁴).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>();
        for (int g = 0; g < groups.Length; g++)
        {
            state[$"param_groups.{g}.lr"] = Number(groups[g].LearningRate);
            state[$"param_groups.{g}.weight_decay"] = Number(groups[g].WeightDecay);
            state[$"param_groups.{g}.params"] = Number(groups[g].Parameters.Count);
        }
        foreach (var (name, value) in GetOptions()) state[$"options.{name}"] = Number(value);
        using var _ = Tensor.NoGrad();
        for (int i = 0; i < states.Length; i++)
        {
            if (states[i] is not { } parameterState) continue;
            state[$"state.{i}.step"] = Number(parameterState.Step);
            foreach (var (name, buffer) in parameterState.Buffers) state[$"state.{i}.{name}"] = buffer.Clone();
        }
        return state;
    }

    /// <summary>
    /// Restores a <see cref="StateDict"/> taken from an optimiser of the same kind over parameters of the
    /// same shapes, in the same groups. Everything is checked before anything changes; a missing, unexpected
    /// or malformed entry throws an <see cref="ArgumentException"/> naming it.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var unused = new HashSet<string>(state.Keys);
        double Read(string key)
        {
            unused.Remove(key);
            return StateNumbers.Read(state, key, Invalid);
        }
        long ReadCount(string key)
        {
            unused.Remove(key);
            return StateNumbers.ReadCount(state, key, Invalid);
        }

        var groupValues = new (double LearningRate, double WeightDecay)[groups.Length];
        for (int g = 0; g < groups.Length; g++)
        {
            double lr = Read($"param_groups.{g}.lr"), weightDecay = Read($"param_groups.{g}.weight_decay");
            if (!double.IsFinite(lr) || !(weightDecay >= 0 && double.IsFinite(weightDecay)))
                throw Invalid($"group {g} has lr {lr} and weight decay {weightDecay}; both must be finite, the weight decay ≥ 0");
            long count = ReadCount($"param_groups.{g}.params");
            if (count != groups[g].Parameters.Count)
                throw Invalid($"'param_groups.{g}.params' counts {count} parameters but group {g} of this optimiser holds {groups[g].Parameters.Count}");
            groupValues[g] = (lr, weightDecay);
        }
        var options = GetOptions().Keys.ToDictionary(name => name, name => Read($"options.{name}"));

        var parameters = groups.SelectMany(g => g.Parameters).ToArray();
        var loaded = new ParameterState?[states.Length];
        foreach (var key in state.Keys)
        {
            var parts = key.Split('.');
            if (parts.Length != 3 || parts[0] != "state") continue;
            if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int i) || i >= parameters.Length)
                throw Invalid($"'{key}' names no parameter (this optimiser has {parameters.Length})");
            var parameterState = loaded[i] ??= new ParameterState();
            if (parts[2] == "step")
            {
                parameterState.Step = ReadCount(key);
                continue;
            }
            if (!BufferNames.Contains(parts[2]))
                throw Invalid($"'{key}' is not a buffer {Name} keeps (it keeps {string.Join(", ", BufferNames)})");
            var buffer = state[key];
            if (!buffer.Shape.SequenceEqual(parameters[i].Shape))
                throw Invalid($"'{key}' has shape {buffer.ShapeString} but parameter {i} has shape {parameters[i].ShapeString}");
            parameterState.Buffers[parts[2]] = Tensor.ZerosLike(parameters[i]).CopyFrom(buffer);
            unused.Remove(key);
        }
        for (int i = 0; i < loaded.Length; i++)
        {
            if (loaded[i] is not { } parameterState) continue;
            if (!state.ContainsKey($"state.{i}.step")) throw Invalid($"the entry 'state.{i}.step' is missing");
            foreach (var name in RequiredBufferNames)
                if (!parameterState.Buffers.ContainsKey(name)) throw Invalid($"the entry 'state.{i}.{name}' is missing");
        }
        if (unused.Count > 0) throw Invalid($"unexpected entries [{string.Join(", ", unused.Order(StringComparer.Ordinal))}]");

        try { SetOptions(options); }
        catch (ArgumentException e) { throw Invalid(e.Message); }
        for (int g = 0; g < groups.Length; g++)
        {
            groups[g].LearningRate = groupValues[g].LearningRate;
            groups[g].WeightDecay = groupValues[g].WeightDecay;
        }
        loaded.CopyTo(states, 0);
    }

    ArgumentException Invalid(string problem) => new($"{Name}.LoadStateDict: {problem}.");

    static Tensor Number(double value) => Tensor.Scalar((float)value);

    /// <summary>Throws unless <paramref name="value"/> is finite and ≥ 0, naming this optimiser and the argument.</summary>
    protected double CheckNonNegative(double value, string name) => value >= 0 && double.IsFinite(value) ? value
        : throw new ArgumentOutOfRangeException(name, value, $"{Name}: {name} must be a finite number ≥ 0, not {value}.");

    /// <summary>Reads a 0/1 option as a boolean.</summary>
    protected bool Flag(IReadOnlyDictionary<string, double> options, string name) => options[name] switch
    {
        0 => false,
        1 => true,
        var value => throw new ArgumentException($"option '{name}' must be 0 or 1, not {value}"),
    };
}
