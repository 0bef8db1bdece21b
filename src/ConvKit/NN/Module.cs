using System.Text;

namespace ConvKit.NN;

/// <summary>
/// Base of every layer and model. A module registers its parameters, buffers (state that is saved but not
/// trained, such as batch-norm running statistics) and sub-modules by name in its constructor, so that
/// <see cref="StateDict"/> yields PyTorch-style dotted names (<c>layer1.0.conv1.weight</c>) and weights
/// move one-to-one between ConvKit and PyTorch.
/// </summary>
public abstract class Module
{
    readonly OrderedDictionary<string, Tensor> parameters = new();
    readonly OrderedDictionary<string, Tensor> buffers = new();
    readonly OrderedDictionary<string, Module> children = new();

    /// <summary>True in training mode (dropout active, batch norm uses batch statistics).</summary>
    public bool Training { get; private set; } = true;

    [ThreadStatic] static List<Action<Module, Tensor, Tensor>>? observers;

    /// <summary>Runs the module on <paramref name="input"/>; observers registered with <see cref="ObserveForward"/> see the call.</summary>
    public Tensor Forward(Tensor input)
    {
        var output = ForwardCore(input);
        if (observers is { Count: > 0 } active)
            foreach (var observer in active.ToArray()) observer(this, input, output);
        return output;
    }

    /// <summary>The module's computation; parents call children through <see cref="Forward"/> so observers see every layer.</summary>
    protected abstract Tensor ForwardCore(Tensor input);

    /// <summary>
    /// Calls <paramref name="observer"/>(module, input, output) after every module's forward on this thread
    /// until the returned scope is disposed — children before their parents, in execution order. Used by
    /// model summaries and debugging.
    /// </summary>
    public static IDisposable ObserveForward(Action<Module, Tensor, Tensor> observer)
    {
        (observers ??= []).Add(observer);
        return new Observation(observer);
    }

    sealed class Observation(Action<Module, Tensor, Tensor> observer) : IDisposable
    {
        public void Dispose() => observers?.Remove(observer);
    }

    /// <summary>Registers a trainable tensor under <paramref name="name"/>; it is made to require gradients.</summary>
    protected Tensor RegisterParameter(string name, Tensor parameter)
    {
        CheckName(name);
        parameter.RequiresGrad = true;
        parameters[name] = parameter;
        return parameter;
    }

    /// <summary>Registers saved, untrained state (e.g. running mean) under <paramref name="name"/>.</summary>
    protected Tensor RegisterBuffer(string name, Tensor buffer)
    {
        CheckName(name);
        buffers[name] = buffer;
        return buffer;
    }

    /// <summary>Registers a sub-module under <paramref name="name"/>; its entries appear as <c>name.entry</c>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        children[name] = module;
        return module;
    }

    void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid entry name '{name}' (non-empty, no dots).");
        if (parameters.ContainsKey(name) || buffers.ContainsKey(name) || children.ContainsKey(name))
            throw new ArgumentException($"{GetType().Name}: '{name}' is already registered.");
    }

    /// <summary>Direct sub-modules with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => children.Select(c => (c.Key, c.Value));

    /// <summary>This module and every descendant, with dotted names ("" for this one).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in children)
            foreach (var entry in child.NamedModules(Join(prefix, name)))
                yield return entry;
    }

    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters() =>
        NamedModules().SelectMany(m => m.Module.parameters.Select(p => (Join(m.Name, p.Key), p.Value)));

    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers() =>
        NamedModules().SelectMany(m => m.Module.buffers.Select(b => (Join(m.Name, b.Key), b.Value)));

    /// <summary>Every trainable tensor, for an optimiser.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Total number of trainable values.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Numel);

    static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Switches this module and all descendants to training (true) or evaluation (false) mode.</summary>
    public Module Train(bool training = true)
    {
        foreach (var (_, module) in NamedModules()) module.Training = training;
        return this;
    }

    /// <summary>Evaluation mode: dropout off, batch norm uses running statistics.</summary>
    public Module Eval() => Train(false);

    public void ZeroGrad()
    {
        foreach (var parameter in Parameters()) parameter.ZeroGrad();
    }

    /// <summary>Parameters and buffers by dotted name, in registration order; the tensors share this module's values.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>();
        foreach (var (name, module) in NamedModules())
        {
            foreach (var (key, parameter) in module.parameters) state[Join(name, key)] = parameter.Detach();
            foreach (var (key, buffer) in module.buffers) state[Join(name, key)] = buffer.Detach();
        }
        return state;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into this module's parameters and buffers by name.
    /// A shape mismatch always throws, naming the entry and both shapes. With <paramref name="strict"/>,
    /// missing or unexpected names throw too; otherwise they are reported in the result.
    /// </summary>
    public StateDictLoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new ArgumentException($"LoadStateDict ({GetType().Name}): " + StateDictLoadResult.Describe(missing, unexpected));
        foreach (var (key, target) in own)
            if (state.TryGetValue(key, out var source) && !source.Shape.SequenceEqual(target.Shape))
                throw new ArgumentException(
                    $"LoadStateDict ({GetType().Name}): '{key}' has shape {Shapes.Format(source.Shape)} in the state dict but {Shapes.Format(target.Shape)} in the model.");
        using (Tensor.NoGrad())
            foreach (var (key, target) in own)
                if (state.TryGetValue(key, out var source)) target.CopyFrom(source);
        return new StateDictLoadResult(missing, unexpected);
    }

    /// <summary>A PyTorch-like outline of the module tree.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Describe());
        if (children.Count == 0) return text.ToString();
        text.Append("(\n");
        foreach (var (name, child) in children)
            text.Append("  (").Append(name).Append("): ").Append(child.ToString().Replace("\n", "\n  ")).Append('\n');
        return text.Append(')').ToString();
    }

    /// <summary>One-line description: the type name and configuration, e.g. <c>Conv2d(3, 64, kernelSize=(3, 3))</c>.</summary>
    protected virtual string Describe() => GetType().Name;
}

/// <summary>Names a non-strict <see cref="Module.LoadStateDict"/> left alone.</summary>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys)
{
    internal static string Describe(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected) =>
        $"missing keys [{string.Join(", ", missing)}]; unexpected keys [{string.Join(", ", unexpected)}]";

    public override string ToString() => Describe(MissingKeys, UnexpectedKeys);
}
