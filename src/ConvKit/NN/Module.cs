using System.Text;
using ConvKit.Backends;

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

    ForwardHook[] hooks = [];

    /// <summary>Runs the module on one input and returns its main output; the module's forward hooks see the call.</summary>
    /// <remarks>A module with several outputs returns the first (its <see cref="TensorDict.Main"/>); <see cref="ForwardOutputs"/> gives them all.</remarks>
    public Tensor Forward(Tensor input)
    {
        var output = ForwardCore(input);
        if (hooks.Length > 0) RunHooks([input], TensorDict.Single(output));
        return output;
    }

    /// <summary>
    /// Runs the module on several inputs (an image and its region proposals, a pair of faces) and returns every named
    /// output (GoogLeNet in training mode: <c>logits</c>, <c>aux1</c>, <c>aux2</c>). A single-output module returns
    /// its output under <see cref="TensorDict.OutputName"/>.
    /// </summary>
    public TensorDict ForwardOutputs(params Tensor[] inputs)
    {
        var outputs = ForwardCore((IReadOnlyList<Tensor>)inputs);
        if (hooks.Length > 0) RunHooks(inputs, outputs);
        return outputs;
    }

    /// <summary>The computation of a one-input module; parents call children through <see cref="Forward(Tensor)"/> so hooks see every layer.</summary>
    protected virtual Tensor ForwardCore(Tensor input) =>
        throw new NotSupportedException($"{GetType().Name} does not take a single tensor; call ForwardOutputs with its inputs.");

    /// <summary>
    /// The computation of a module with several inputs or outputs; override it (and <see cref="ForwardCore(Tensor)"/>
    /// for the main output of one input) in such a module. The default serves one-input, one-output modules.
    /// </summary>
    protected virtual TensorDict ForwardCore(IReadOnlyList<Tensor> inputs) => inputs.Count == 1
        ? TensorDict.Single(ForwardCore(inputs[0]))
        : throw new ArgumentException($"{GetType().Name}: takes 1 input, got {inputs.Count}.");

    /// <summary>
    /// The shape of this module's main output for an input of <paramref name="inputShape"/> (batch included), stated
    /// by the layers without computing anything or allocating activations: a convolution applies its size formula, a
    /// container composes its children's answers. A shape the module cannot take throws the
    /// <see cref="ArgumentException"/> its <see cref="Forward(Tensor)"/> would. A module that does not implement
    /// <see cref="OutputShapeCore(int[])"/> throws <see cref="ShapeInferenceNotSupportedException"/> naming it
    /// (<see cref="ModelSummary.Of(Module, int[])"/> then runs the model instead).
    /// </summary>
    /// <example><c>new Conv2d(3, 64, 3, padding: 1).OutputShape(1, 3, 224, 224)</c> is [1, 64, 224, 224].</example>
    public int[] OutputShape(params int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        var output = OutputShapeCore(inputShape);
        ShapeTrace.Current?.Record(this, [inputShape], new Dictionary<string, int[]> { [TensorDict.OutputName] = output });
        return output;
    }

    /// <summary>
    /// Every named output's shape for inputs of <paramref name="inputShapes"/>, without computing: the shape-only twin of
    /// <see cref="ForwardOutputs"/> (GoogLeNet in training mode: <c>logits</c>, <c>aux1</c>, <c>aux2</c>).
    /// </summary>
    public IReadOnlyDictionary<string, int[]> OutputShapes(params int[][] inputShapes)
    {
        ArgumentNullException.ThrowIfNull(inputShapes);
        var outputs = OutputShapesCore(inputShapes);
        ShapeTrace.Current?.Record(this, inputShapes, outputs);
        return outputs;
    }

    /// <summary>
    /// The output shape of a one-input module for <paramref name="inputShape"/>; override it beside
    /// <see cref="ForwardCore(Tensor)"/>, calling children through <see cref="OutputShape(int[])"/> in the order
    /// <see cref="ForwardCore(Tensor)"/> calls them. The default throws <see cref="ShapeInferenceNotSupportedException"/>.
    /// </summary>
    protected virtual int[] OutputShapeCore(int[] inputShape) => throw new ShapeInferenceNotSupportedException(this);

    /// <summary>
    /// The named output shapes of a module with several inputs or outputs; the default serves one-input, one-output
    /// modules through <see cref="OutputShapeCore(int[])"/>; for several inputs it throws
    /// <see cref="ShapeInferenceNotSupportedException"/> (running such a module says what it takes).
    /// </summary>
    protected virtual IReadOnlyDictionary<string, int[]> OutputShapesCore(IReadOnlyList<int[]> inputShapes) => inputShapes.Count == 1
        ? new Dictionary<string, int[]> { [TensorDict.OutputName] = OutputShapeCore(inputShapes[0]) }
        : throw new ShapeInferenceNotSupportedException(this);

    void RunHooks(IReadOnlyList<Tensor> inputs, TensorDict outputs)
    {
        foreach (var hook in hooks) hook(this, inputs, outputs);
    }

    /// <summary>
    /// Calls <paramref name="hook"/>(module, inputs, outputs) after each forward call of this module until the
    /// returned registration is disposed (PyTorch's <c>register_forward_hook</c>). Hooks run in registration order,
    /// on the thread that ran the forward.
    /// </summary>
    public IDisposable RegisterForwardHook(ForwardHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        lock (parameters) hooks = [.. hooks, hook];
        return new HookRegistration(this, hook);
    }

    /// <summary>Registers <paramref name="hook"/> on this module and every descendant (children run, and are seen, before their parents).</summary>
    public IDisposable RegisterForwardHookEverywhere(ForwardHook hook)
    {
        var registrations = NamedModules().Select(m => m.Module).Distinct(ReferenceEqualityComparer.Instance)
            .Select(m => ((Module)m!).RegisterForwardHook(hook)).ToList();
        return new Registrations(registrations);
    }

    sealed class HookRegistration(Module module, ForwardHook hook) : IDisposable
    {
        public void Dispose()
        {
            lock (module.parameters)
            {
                int index = Array.IndexOf(module.hooks, hook);
                if (index >= 0) module.hooks = [.. module.hooks[..index], .. module.hooks[(index + 1)..]];
            }
        }
    }

    sealed class Registrations(List<IDisposable> registrations) : IDisposable
    {
        public void Dispose() => registrations.ForEach(r => r.Dispose());
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

    /// <summary>Every trainable tensor of this module and its descendants, with PyTorch's dotted names (<c>layer1.0.conv1.weight</c>).</summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters() =>
        NamedModules().SelectMany(m => m.Module.parameters.Select(p => (Join(m.Name, p.Key), p.Value)));

    /// <summary>Every buffer (state that is saved but not trained, such as batch norm's running statistics), with dotted names.</summary>
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

    /// <summary>
    /// Moves every parameter and buffer of this module and its descendants (with their gradients) to
    /// <paramref name="backend"/> in place, as PyTorch's <c>module.to(device)</c>: each stays the same tensor object, so
    /// the layers keep theirs and later ops run on <paramref name="backend"/>. Make the optimiser after moving (its state
    /// is made on the backend of the parameters at its first step). Returns this module.
    /// </summary>
    public Module To(IBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        foreach (var (_, module) in NamedModules())
            foreach (var tensor in module.parameters.Values.Concat(module.buffers.Values))
                tensor.MoveTo(backend);
        return this;
    }

    /// <summary>Sets every parameter's gradient back to none (<see cref="Tensor.ZeroGrad"/>).</summary>
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

/// <summary>Sees one forward call of <paramref name="module"/>: its inputs and its named outputs (a single output under "output").</summary>
public delegate void ForwardHook(Module module, IReadOnlyList<Tensor> inputs, TensorDict outputs);

/// <summary>Names a non-strict <see cref="Module.LoadStateDict"/> left alone.</summary>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys)
{
    internal static string Describe(IReadOnlyList<string> missing, IReadOnlyList<string> unexpected) =>
        $"missing keys [{string.Join(", ", missing)}]; unexpected keys [{string.Join(", ", unexpected)}]";

    /// <inheritdoc/>
    public override string ToString() => Describe(MissingKeys, UnexpectedKeys);
}
