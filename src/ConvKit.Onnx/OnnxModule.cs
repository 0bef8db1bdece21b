using System.Diagnostics;
using ConvKit.Autograd;
using ConvKit.NN;
using ConvKit.Onnx.Import;
using ConvKit.Onnx.Ops;
using ConvKit.Onnx.Proto;
using DataType = ConvKit.Onnx.Proto.TensorProto.Types.DataType;

namespace ConvKit.Onnx;

/// <summary>
/// An imported ONNX graph as a ConvKit module: it runs the graph's nodes with ConvKit ops, so it infers and — every
/// op being differentiable — trains. Float initialisers are registered as parameters (batch-norm mean and variance as
/// buffers) under their ONNX names: "layer1.0.conv1.weight" nests as layer1 → 0 → conv1 → weight, so the state-dict key
/// is the ONNX name; a name that cannot nest (an empty segment, or a clash) is registered flat with '%' and '.' escaped
/// as "%25" and "%2E" (and a "%" appended while the key is taken). <see cref="ParameterNames"/> maps each ONNX name to its key. Integer initialisers (shape
/// constants) are constants. Made by <see cref="OnnxModel.Load(string, OnnxImportOptions?)"/>, in evaluation mode.
/// Its intermediate values are features by their graph names (<see cref="IFeatureModel"/>, so a
/// <see cref="FeatureExtractor"/> reads them).
/// </summary>
public sealed class OnnxModule : Module, IFeatureModel
{
    /// <summary>
    /// A planned node: its kernel, the places in a run's array of values (<see cref="Execute"/>) it reads (−1 for an
    /// omitted optional input), writes and frees after it, and which of its inputs' storage goes back for reuse.
    /// </summary>
    sealed record CompiledNode(NodeContext Context, OpKernel Kernel, string[] Inputs, int[] InputSlots, int[] OutputSlots, int[] ReleaseSlots, int[] RecycledInputs)
    {
        /// <summary>
        /// The op type, with what a Conv fuses into its epilogue after a '+': an Add of a shortcut, an activation
        /// (<c>Conv+HardSwish</c>, <c>Conv+Add+Relu</c>).
        /// </summary>
        public string Step { get; } = Context.OpType + (Context.FusedResidual ? "+Add" : "")
            + (Context.FusedActivation is { } activation ? $"+{activation}" : "");
    }

    /// <summary>A plan that keeps the values <see cref="Names"/> (sorted, one a line) alive for <see cref="ForwardFeatures"/>.</summary>
    sealed record FeaturePlan(string Names, CompiledNode[] Nodes);

    readonly List<NodeProto> graphNodes;
    readonly CompiledNode[] nodes;
    readonly List<string> featureNames;
    readonly HashSet<string> featureNameSet;
    readonly HashSet<string> foldedAway;
    readonly bool anyPictureSize;
    FeaturePlan? featurePlan;
    readonly Dictionary<string, OnnxValue> constants = [];
    // Every value's place in a run's array of values, the weights first (in the places 0 … constants.Count − 1, so a
    // run starts from a copy of weightValues): array reads where name lookups in a dictionary of every value cost
    // 2–5 µs a node, their entries cold after each convolution (4–7% of MobileNetV3-Small's run on Zen 3).
    readonly Dictionary<string, int> slots = [];
    readonly OnnxValue[] weightValues;
    readonly Dictionary<string, object> rootEntries = [];
    readonly Dictionary<string, string> parameterNames = [];

    internal OnnxModule(ModelProto model, string source, OnnxImportOptions options)
    {
        Source = source;
        var graph = model.Graph ?? throw new InvalidDataException($"ONNX file '{source}' has no graph.");
        Opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        ProducerName = model.ProducerName;
        Metadata = OnnxModel.MetadataOf(model);

        var initializers = new Dictionary<string, OnnxValue>();
        foreach (var tensor in graph.Initializer)
        {
            if (tensor.Name.Length == 0) throw new InvalidDataException($"ONNX file '{source}' has an initialiser without a name.");
            try { initializers[tensor.Name] = TensorProtos.Decode(tensor, problem => new OnnxNotSupportedException("initializer", tensor.Name, Opset, problem)); }
            catch (InvalidDataException e) { throw new InvalidDataException($"ONNX file '{source}': {e.Message}", e); }
        }
        Inputs = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).Select(Describe).ToList();
        Outputs = graph.Output.Select(Describe).ToList();
        if (Outputs.Count == 0) throw new InvalidDataException($"ONNX file '{source}' declares no graph outputs.");

        graphNodes = graph.Node.ToList();
        var outputNames = Outputs.Select(o => o.Name).ToHashSet();
        anyPictureSize = options.AnyPictureSize;
        if (options.FoldBatchNorm) graphNodes = BatchNormFolding.Fold(graphNodes, initializers, outputNames);
        featureNames = Inputs.Select(i => i.Name).Concat(graphNodes.SelectMany(n => n.Output)).Where(n => n.Length > 0).Distinct().ToList();
        featureNameSet = [.. featureNames];
        foldedAway = graph.Node.SelectMany(n => n.Output).Where(n => n.Length > 0 && !featureNameSet.Contains(n)).ToHashSet();
        OpHistogram = graphNodes.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key)
            .ToDictionary(g => g.Key, g => g.Count());

        // Batch-norm statistics are state, not weights: buffers, as PyTorch's running_mean/running_var.
        var statistics = graphNodes.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Input.Skip(3).Take(2)).ToHashSet();
        var otherUses = graphNodes.SelectMany(n => n.OpType == "BatchNormalization" ? n.Input.Take(3) : n.Input).ToHashSet();
        foreach (var (name, value) in initializers)
        {
            if (value.Float is { } tensor) Place(name, tensor, trainable: !statistics.Contains(name) || otherUses.Contains(name));
            constants[name] = value;
            SlotOf(name);
        }
        weightValues = [.. constants.Values];
        foreach (var value in Inputs.Concat(Outputs)) SlotOf(value.Name);

        Validate(source);
        // Compiling a node reads its attributes and Constant values; their complaints name the node, add the file.
        try { nodes = Plan([]); }
        catch (InvalidDataException e) when (!e.Message.StartsWith("ONNX file", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"ONNX file '{source}': {e.Message}", e);
        }
        Eval();
    }

    /// <summary>The file (or "&lt;bytes&gt;") the model came from.</summary>
    public string Source { get; }

    /// <summary>The version of the default ONNX operator set the model uses.</summary>
    public long Opset { get; }

    /// <summary>The tool that wrote the file, as the file names it (<c>pytorch</c>, <c>convkit</c>, ...).</summary>
    public string ProducerName { get; }

    /// <summary>The file's <c>metadata_props</c>: a model card when it was exported from a <c>convkit train</c> checkpoint (<see cref="OnnxModel.ReadModelCard"/>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Inputs to feed (initialisers listed as inputs by old exporters are left out), with their declared shapes.</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>The graph's outputs, with their declared shapes.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>How many nodes of each op type the graph has (after batch-norm folding, if asked for), most common first.</summary>
    public IReadOnlyDictionary<string, int> OpHistogram { get; }

    /// <summary>
    /// The steps inference runs, in order: each node's op type, and for a Conv that applies the activation after it in
    /// its epilogue, that activation after a '+' (<c>Conv+HardSwish</c>, <c>Conv+Silu</c>); the nodes fused away are not
    /// listed.
    /// </summary>
    public IReadOnlyList<string> PlannedOps => [.. nodes.Select(n => n.Step)];

    /// <summary>When set, every run adds the time of each step to it (see <see cref="OnnxProfile"/>); null by default.</summary>
    public OnnxProfile? Profile { get; set; }

    /// <summary>Each float initialiser's ONNX name → its key in <see cref="Module.StateDict"/>.</summary>
    public IReadOnlyDictionary<string, string> ParameterNames => parameterNames;

    static OnnxValueInfo Describe(ValueInfoProto info)
    {
        var tensorType = info.Type?.TensorType;
        string type = tensorType == null ? "?" : ((DataType)tensorType.ElemType).ToString().ToLowerInvariant();
        var shape = tensorType?.Shape?.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => new OnnxDim(d.DimValue, null),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => new OnnxDim(null, d.DimParam),
            _ => new OnnxDim(null, null),
        }).ToList();
        return new OnnxValueInfo(info.Name, type, shape);
    }

    /// <summary>Registers an initialiser under its ONNX name, nested at the dots when possible, else flat and escaped.</summary>
    void Place(string name, Tensor tensor, bool trainable)
    {
        var segments = name.Split('.');
        if (segments.All(s => s.Length > 0) && CanNest(segments))
        {
            ParameterGroup? group = null;
            foreach (var segment in segments[..^1]) group = group == null ? RootGroup(segment) : group.Group(segment);
            if (group == null) AddRoot(segments[0], tensor, trainable);
            else group.Add(segments[^1], tensor, trainable);
            parameterNames[name] = name;
            return;
        }
        string key = name.Replace("%", "%25").Replace(".", "%2E");
        while (rootEntries.ContainsKey(key)) key += "%";
        AddRoot(key, tensor, trainable);
        parameterNames[name] = key;
    }

    bool CanNest(string[] segments)
    {
        if (segments.Length == 1) return !rootEntries.ContainsKey(segments[0]);
        if (rootEntries.TryGetValue(segments[0], out var entry) && entry is not ParameterGroup) return false;
        var group = entry as ParameterGroup;
        for (int i = 1; i < segments.Length; i++)
        {
            bool last = i == segments.Length - 1;
            if (group == null) return true;
            if (last) return group.IsFree(segments[i]);
            if (!group.IsFree(segments[i]) && !group.HasGroup(segments[i])) return false;
            group = group.HasGroup(segments[i]) ? group.Group(segments[i]) : null;
        }
        return true;
    }

    ParameterGroup RootGroup(string name)
    {
        if (rootEntries.TryGetValue(name, out var entry)) return (ParameterGroup)entry;
        var group = RegisterModule(name, new ParameterGroup());
        rootEntries[name] = group;
        return group;
    }

    void AddRoot(string name, Tensor tensor, bool trainable)
    {
        rootEntries[name] = tensor;
        if (trainable) RegisterParameter(name, tensor);
        else RegisterBuffer(name, tensor);
    }

    /// <summary>Checks that every value a node reads, and every graph output, is defined before use.</summary>
    void Validate(string source)
    {
        var defined = new HashSet<string>(constants.Keys.Concat(Inputs.Select(i => i.Name)));
        foreach (var node in graphNodes)
        {
            foreach (var input in Subgraph.Reads(node).Where(n => n.Length > 0))
                if (!defined.Contains(input))
                    throw new InvalidDataException(
                        $"ONNX file '{source}': {node.OpType} node '{new NodeContext(node, Opset).Name}' reads '{input}', which no input, initialiser or earlier node defines.");
            foreach (var output in node.Output.Where(n => n.Length > 0)) defined.Add(output);
        }
        foreach (var output in Outputs)
            if (!defined.Contains(output.Name))
                throw new InvalidDataException($"ONNX file '{source}': graph output '{output.Name}' is not produced by any node.");
    }

    /// <summary>
    /// Compiles the nodes into an execution plan: Conv+Add(+activation), Conv+activation, Pad+AveragePool and GELU fusion, in-place reuse and
    /// recycling of dead values.
    /// The values in <paramref name="features"/> are kept as the graph outputs are: computed on their own (not fused
    /// away), never overwritten in place, dropped or recycled.
    /// </summary>
    CompiledNode[] Plan(IReadOnlyCollection<string> features)
    {
        var plan = new List<CompiledNode>();
        // A feature plan runs only the nodes its values depend on (so a picture too small for the graph's last
        // layers can still be read at the early ones); the full plan produces the graph outputs.
        var wanted = features.Count > 0 ? features : Outputs.Select(o => o.Name).ToList();
        var nodesToRun = NodesNeededFor(wanted);
        // Values the caller gave or will read, and weights, are never overwritten or dropped.
        var keep = wanted.Concat(constants.Keys).Concat(Inputs.Select(i => i.Name)).ToHashSet();
        var readers = nodesToRun.SelectMany(Subgraph.Reads).Where(n => n.Length > 0).CountBy(n => n).ToDictionary();
        var absorbed = new HashSet<NodeProto>();
        var rewritten = new Dictionary<NodeProto, NodeProto>();
        var planned = new List<(NodeProto Node, ActivationFusion.Match? Fused, string[] Outputs)>();
        // Conv+Add fusions, each waiting for its Add's place.
        var atAdd = new Dictionary<NodeProto, ResidualFusion.Match>();
        foreach (var original in nodesToRun)
        {
            if (atAdd.Remove(original, out var residual))
            {
                planned.Add((residual.Fused, residual.Activation, [.. residual.Fused.Output]));
                continue;
            }
            if (absorbed.Contains(original)) continue;
            // A Pad of zeros read only by an AveragePool becomes the pool's padding.
            if (PadFusion.Find(original, nodesToRun, readers, keep, constants, Opset) is var (pool, padded))
            {
                rewritten[pool] = padded;
                continue;
            }
            var node = rewritten.GetValueOrDefault(original, original);
            // PyTorch's GELU chain runs as one Gelu node.
            if (GeluFusion.Find(node, nodesToRun, readers, keep, constants) is var (chain, gelu))
            {
                absorbed.UnionWith(chain);
                planned.Add((gelu, null, [.. gelu.Output]));
                continue;
            }
            // A Conv whose output goes only into an Add (a residual block's shortcut) runs fused with it, at its place;
            // when both operands are such Convs (a block with a projection shortcut), the first.
            if (ResidualFusion.Find(node, nodesToRun, readers, keep, constants, Opset) is { } match && !absorbed.Contains(match.Add))
            {
                absorbed.UnionWith(match.Absorbed);
                atAdd[match.Add] = match;
                continue;
            }
            // A Conv whose output goes only through an activation runs fused with it.
            var fused = ActivationFusion.Find(node, nodesToRun, readers, keep, constants, Opset);
            if (fused != null) absorbed.UnionWith(fused.Absorbed);
            planned.Add((node, fused, fused?.Outputs ?? [.. node.Output]));
        }

        var lastUse = new Dictionary<string, int>();
        var producer = new Dictionary<string, string>();
        var readerTypes = new Dictionary<string, List<string>>();
        for (int i = 0; i < planned.Count; i++)
        {
            foreach (var input in Subgraph.Reads(planned[i].Node).Where(n => n.Length > 0))
            {
                lastUse[input] = i;
                if (!readerTypes.TryGetValue(input, out var types)) readerTypes[input] = types = [];
                types.Add(planned[i].Node.OpType);
            }
            foreach (var output in planned[i].Outputs) producer[output] = planned[i].Node.OpType;
        }
        // These ops always return new storage, or (Add and Relu in place) the storage of an input only they read. (A
        // value made by any other op is left to the garbage collector: ConvNeXt-T's MatMul, Erf and Mul chain, left
        // out, allocated 300 MB a run, and the collections made it 4–8× slower.)
        static bool Fresh(string? opType) =>
            opType is "Conv" or "BatchNormalization" or "Add" or "Relu" or "MaxPool" or "AveragePool" or "GlobalAveragePool"
                or "Sub" or "Mul" or "Div" or "Erf" or "Gelu" or "Sigmoid" or "Tanh" or "HardSigmoid" or "HardSwish" or "Clip"
                or "MatMul" or "Gemm" or "Transpose" or "Concat" or "LayerNormalization";
        for (int i = 0; i < planned.Count; i++)
        {
            var (node, fused, outputs) = planned[i];
            var inputs = Subgraph.Reads(node).ToArray();
            // An Add or Relu may overwrite an input in place when it is the input's only reader (so no other node
            // made a view of it) and the input was freshly made by an op whose output is never a view of another value.
            var overwritable = Enumerable.Range(0, inputs.Length).Where(k => node.OpType is "Add" or "Relu"
                && inputs[k].Length > 0 && readers[inputs[k]] == 1 && !keep.Contains(inputs[k]) && Fresh(producer.GetValueOrDefault(inputs[k]))).ToHashSet();
            var context = new NodeContext(node, Opset)
            {
                FusedActivation = fused?.Op, FusedActivationParameter = fused?.Parameter ?? 0f, Overwritable = overwritable,
                FusedResidual = node.OpType == "Conv" && node.Input.Count == 4,
            };
            // Intermediate values are dropped after their last reader, so inference keeps few activations alive.
            var release = inputs.Where(n => n.Length > 0 && lastUse[n] == i && !keep.Contains(n)).Distinct().ToArray();
            // A released value's memory goes back to the backend for reuse when nothing else can hold it: it was
            // freshly made, and its readers made no views of it and did not take it over in place.
            var recycle = release.Select(n => Array.IndexOf(inputs, n))
                .Where(k => Fresh(producer.GetValueOrDefault(inputs[k])) && readerTypes[inputs[k]].All(Fresh) && !overwritable.Contains(k)).ToArray();
            plan.Add(new CompiledNode(context, Operators.Compile(context), inputs, [.. inputs.Select(n => n.Length > 0 ? SlotOf(n) : -1)],
                [.. outputs.Select(n => n.Length > 0 ? SlotOf(n) : -1)], [.. release.Select(SlotOf)], recycle));
        }
        return [.. plan];
    }

    /// <summary>The place of the value <paramref name="name"/> in a run's array of values (a new one for a name not seen before).</summary>
    int SlotOf(string name)
    {
        if (!slots.TryGetValue(name, out int slot)) slots[name] = slot = slots.Count;
        return slot;
    }

    /// <summary>The nodes, in graph order, whose outputs <paramref name="values"/> depend on.</summary>
    List<NodeProto> NodesNeededFor(IEnumerable<string> values)
    {
        var needed = new HashSet<string>(values);
        var nodesNeeded = new List<NodeProto>();
        for (int i = graphNodes.Count - 1; i >= 0; i--)
        {
            if (!graphNodes[i].Output.Any(needed.Contains)) continue;
            nodesNeeded.Add(graphNodes[i]);
            needed.UnionWith(Subgraph.Reads(graphNodes[i]).Where(n => n.Length > 0));
        }
        nodesNeeded.Reverse();
        return nodesNeeded;
    }

    /// <summary>Runs a graph with one input and one output.</summary>
    /// <exception cref="InvalidOperationException">the graph has several inputs or outputs (use <see cref="Run"/>)</exception>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (Inputs.Count != 1 || Outputs.Count != 1)
            throw new InvalidOperationException(
                $"OnnxModule.Forward: the model has {Inputs.Count} inputs and {Outputs.Count} outputs; use Run with named inputs.");
        return Run(new Dictionary<string, Tensor> { [Inputs[0].Name] = input })[Outputs[0].Name];
    }

    /// <summary>Runs the graph on named inputs and returns every graph output by name (integer outputs as float tensors).</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = Execute(inputs, nodes);
        return Outputs.ToDictionary(o => o.Name, o => Values.AsFloat(values[slots[o.Name]]!));
    }

    /// <summary>
    /// Every value of the graph by name: the inputs, then each node's outputs in execution order. Initialisers are
    /// weights, not features (<see cref="Module.StateDict"/> has them). With <see cref="OnnxImportOptions.FoldBatchNorm"/>
    /// a folded convolution's own output no longer exists — the convolution computes its batch norm's output — so
    /// its name is not listed; load the model without folding to read it.
    /// </summary>
    public IReadOnlyCollection<string> FeatureNames => featureNames;

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (in the order of <see cref="Inputs"/>) and returns the values called
    /// <paramref name="names"/> (see <see cref="FeatureNames"/>; integer values as float tensors), in that order. They
    /// are connected to the autograd graph, so a scalar made from them back-propagates to the inputs. The requested
    /// values are computed on their own and kept intact (not fused into the next op, overwritten in place or recycled);
    /// the plan that keeps them is compiled on first use and reused while the same names are asked for. Only the nodes the
    /// requested values depend on run.
    /// </summary>
    public TensorDict ForwardFeatures(IReadOnlyList<Tensor> inputs, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(names);
        foreach (var name in names)
            if (!featureNameSet.Contains(name)) throw UnknownFeature(name);
        if (inputs.Count != Inputs.Count)
            throw new ArgumentException($"ONNX model '{Path.GetFileName(Source)}': takes {Inputs.Count} inputs ({string.Join(", ", Inputs)}), got {inputs.Count}.");

        string key = string.Join("\n", names.Distinct().Order(StringComparer.Ordinal));
        var plan = featurePlan;
        if (plan == null || plan.Names != key) featurePlan = plan = new FeaturePlan(key, Plan([.. names.Distinct()]));
        var values = Execute(Inputs.Select((info, i) => (info.Name, Tensor: inputs[i])).ToDictionary(), plan.Nodes);
        var result = new TensorDict();
        foreach (var name in names)
            result.Add(name, values[slots[name]] is { } value ? Values.AsFloat(value)
                : throw new InvalidOperationException($"ONNX model '{Path.GetFileName(Source)}': value '{name}' was not computed (an optional output its node leaves out)."));
        return result;
    }

    ArgumentException UnknownFeature(string name)
    {
        string model = $"ONNX model '{Path.GetFileName(Source)}'";
        if (foldedAway.Contains(name))
            return new ArgumentException($"{model}: value '{name}' was folded into the batch norm that follows it (OnnxImportOptions.FoldBatchNorm); " +
                "load the model without folding to read it, or ask for the batch norm's output.");
        var nearby = featureNames.Where(n => n.Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(n, StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
        var examples = nearby.Count > 0 ? nearby : featureNames.Take(3).Concat(featureNames.TakeLast(2)).Distinct().ToList();
        return new ArgumentException($"{model} has no value '{name}' (an initialiser is a weight, not a feature); " +
            $"it has {featureNames.Count} values, e.g. [{string.Join(", ", examples)}].");
    }

    /// <summary>Runs <paramref name="plan"/> on named inputs; returns the values it keeps, in their places (<see cref="SlotOf"/>).</summary>
    OnnxValue?[] Execute(IReadOnlyDictionary<string, Tensor> inputs, CompiledNode[] plan)
    {
        var values = new OnnxValue?[slots.Count];
        weightValues.CopyTo(values, 0);
        foreach (var info in Inputs)
        {
            if (!inputs.TryGetValue(info.Name, out var tensor))
                throw new ArgumentException($"ONNX model: input '{info.Name}' ({info}) was not given.");
            CheckShape(info, tensor);
            values[slots[info.Name]] = info.ElementType is "float" or "double" or "?" ? OnnxValue.Of(tensor)
                : OnnxValue.OfInts(tensor.ToArray().Select(v => (long)v).ToArray(), [.. tensor.Shape]);
        }
        foreach (var name in inputs.Keys)
            if (!Inputs.Any(i => i.Name == name))
                throw new ArgumentException($"ONNX model: '{name}' is not an input; the inputs are {string.Join(", ", Inputs.Select(i => $"'{i.Name}'"))}.");

        var state = new RunState(Training);
        foreach (var node in plan)
        {
            var arguments = new OnnxValue?[node.InputSlots.Length];
            for (int k = 0; k < arguments.Length; k++)
                if (node.InputSlots[k] >= 0)
                    arguments[k] = values[node.InputSlots[k]] ?? throw new InvalidOperationException(
                        $"ONNX {node.Context.OpType} node '{node.Context.Name}': its input '{node.Inputs[k]}' was not computed (an optional output its node leaves out).");
            OnnxValue?[] results;
            long start = Profile == null ? 0 : Stopwatch.GetTimestamp();
            try { results = node.Kernel(arguments, state); }
            catch (ArgumentException e) when (!e.Message.StartsWith("ONNX "))
            {
                throw new ArgumentException($"ONNX {node.Context.OpType} node '{node.Context.Name}': {e.Message}", e);
            }
            Profile?.Add(node.Step, Stopwatch.GetTimestamp() - start);
            for (int i = 0; i < node.OutputSlots.Length && i < results.Length; i++)
                if (node.OutputSlots[i] >= 0 && results[i] is { } result) values[node.OutputSlots[i]] = result;
            foreach (int slot in node.ReleaseSlots) values[slot] = null;
            if (!GradMode.IsEnabled && !OpTrace.IsActive)
                foreach (int k in node.RecycledInputs)
                    if (arguments[k]?.Float is { } dead) dead.Backend.Release(dead.Storage);
        }
        return values;
    }

    void CheckShape(OnnxValueInfo info, Tensor tensor)
    {
        if (info.Shape == null) return;
        bool matches = info.Shape.Count == tensor.Rank
            && info.Shape.Select((dim, d) => dim.Value == null || dim.Value == tensor.Shape[d] || anyPictureSize && tensor.Rank == 4 && d >= 2).All(ok => ok);
        if (!matches)
            throw new ArgumentException(
                $"ONNX model: input '{info.Name}' expects shape [{string.Join(", ", info.Shape)}] but got {Values.Format(tensor.Shape)}.");
    }

    /// <inheritdoc/>
    protected override string Describe() => $"OnnxModule('{Path.GetFileName(Source)}', opset {Opset}, {nodes.Length} nodes)";
}
