using System.Globalization;
using System.Text;

namespace ConvKit.NN;

/// <summary>One layer call in a <see cref="ModelSummary"/>.</summary>
/// <param name="Name">the layer's dotted name in the model (<c>layer1.0.conv1</c>)</param>
/// <param name="Type">the layer's class name</param>
/// <param name="OutputShape">the shape of what the call returned</param>
/// <param name="Parameters">the layer's own trainable values; a layer called again lists 0 the second time</param>
/// <param name="MultiplyAccumulates">multiply-accumulate operations of the call (see <see cref="ModelSummary"/>)</param>
public sealed record LayerSummary(string Name, string Type, int[] OutputShape, long Parameters, long MultiplyAccumulates);

/// <summary>
/// A model's layer table, like Keras' <c>summary()</c> or torchinfo: every layer call of one forward pass with its
/// output shape, parameter count and multiply-accumulate count (MACs), and the totals.
/// <para>
/// The layers state their output shapes without computing (<see cref="Module.OutputShape(int[])"/>, in evaluation mode),
/// so a summary of any input size takes no time and no memory for activations; a model holding a module that cannot
/// (an imported ONNX graph, a custom module without <c>OutputShapeCore</c>) is run once on zeros instead, without
/// recording gradients, with a forward hook on every module (<see cref="Module.RegisterForwardHookEverywhere"/>). The
/// model's modes are restored afterwards. Layers are the modules without sub-modules (plus any container holding
/// parameters of its own), in the order they ran; a layer called twice appears twice.
/// </para>
/// <para>
/// MACs count the multiplications of the weights, per the whole input batch: a convolution
/// costs C_out·H_out·W_out·(C_in/groups)·kH·kW, a transposed convolution C_in·H_in·W_in·(C_out/groups)·kH·kW (each
/// input value meets every tap once), a linear layer in·out per row. Bias additions, batch norm, pooling,
/// activations and element-wise sums count 0, as torchinfo's "Mult-Adds" do for activations and pooling; they are
/// a small share of a CNN's arithmetic. Parameters of modules that did not run (GoogLeNet's side classifiers in
/// evaluation mode) appear in <see cref="TotalParameters"/> but in no row.
/// </para>
/// </summary>
public sealed class ModelSummary
{
    /// <summary>The first input's shape.</summary>
    public IReadOnlyList<int> InputShape => InputShapes[0];
    /// <summary>The main output's shape.</summary>
    public IReadOnlyList<int> OutputShape => Outputs.Values.First();
    /// <summary>Every input's shape, for a module with several inputs.</summary>
    public IReadOnlyList<IReadOnlyList<int>> InputShapes { get; }
    /// <summary>Every named output's shape (one, "output", for a single-output model).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<int>> Outputs { get; }
    /// <summary>One row per layer that ran, in the order they ran.</summary>
    public IReadOnlyList<LayerSummary> Layers { get; }
    /// <summary>All trainable values of the model, whether or not their layer ran.</summary>
    public long TotalParameters { get; }
    /// <summary>Sum of the layers' multiply-accumulates.</summary>
    public long TotalMultiplyAccumulates => Layers.Sum(l => l.MultiplyAccumulates);

    ModelSummary(IReadOnlyList<IReadOnlyList<int>> inputShapes, IReadOnlyDictionary<string, IReadOnlyList<int>> outputs, List<LayerSummary> layers, long totalParameters) =>
        (InputShapes, Outputs, Layers, TotalParameters) = (inputShapes, outputs, layers, totalParameters);

    /// <summary>
    /// The summary of <paramref name="model"/> for an input of <paramref name="inputShape"/> (batch included, e.g. [1, 3, 224, 224]):
    /// stated by the layers without computing (<see cref="Infer(Module, IReadOnlyList{int[]})"/>), so any size is instant and
    /// allocates no activations; a model with a module that cannot state its shape is run once on zeros instead
    /// (<see cref="Run(Module, IReadOnlyList{int[]})"/>, see <see cref="Inferred"/>).
    /// </summary>
    /// <exception cref="ArgumentException">the model cannot take that shape (the layer's own message)</exception>
    public static ModelSummary Of(Module model, params int[] inputShape) => Of(model, [inputShape]);

    /// <summary>The summary of a model with several inputs, inferred where every module can state its shape, else run (see <see cref="Of(Module, int[])"/>).</summary>
    public static ModelSummary Of(Module model, IReadOnlyList<int[]> inputShapes)
    {
        try { return Infer(model, inputShapes); }
        catch (ShapeInferenceNotSupportedException) { return Run(model, inputShapes); }
    }

    /// <summary>
    /// The summary from <see cref="Module.OutputShapes"/> alone, in evaluation mode: no tensor is computed. A module that
    /// cannot state its output shape throws <see cref="ShapeInferenceNotSupportedException"/>.
    /// </summary>
    public static ModelSummary Infer(Module model, IReadOnlyList<int[]> inputShapes)
    {
        var recorder = new Recorder(model);
        IReadOnlyDictionary<string, int[]> result;
        try
        {
            model.Eval();
            using var trace = new ShapeTrace((module, inputs, outputs) => recorder.Record(module, inputs[0], outputs.Values.First()));
            result = model.OutputShapes(inputShapes.ToArray());
        }
        finally { recorder.RestoreModes(); }
        return recorder.Summary(inputShapes, result, inferred: true);
    }

    /// <summary>Runs <paramref name="model"/> once on zeros of <paramref name="inputShapes"/> in evaluation mode without recording gradients, and lists every layer call that forward hooks see.</summary>
    public static ModelSummary Run(Module model, IReadOnlyList<int[]> inputShapes)
    {
        var recorder = new Recorder(model);
        TensorDict result;
        try
        {
            model.Eval();
            using var noGrad = Tensor.NoGrad();
            using var hooks = model.RegisterForwardHookEverywhere((module, inputs, outputs) =>
                recorder.Record(module, inputs[0].Shape.ToArray(), outputs.Main.Shape.ToArray()));
            result = model.ForwardOutputs(inputShapes.Select(shape => Tensor.Zeros(shape)).ToArray());
        }
        finally { recorder.RestoreModes(); }
        return recorder.Summary(inputShapes, result.ToDictionary(entry => entry.Key, entry => entry.Value.Shape.ToArray()), inferred: false);
    }

    /// <summary>True when the shapes were stated by the layers without computing; false when the model was run on zeros.</summary>
    public bool Inferred { get; private init; }

    /// <summary>Collects the rows of one summary: names, modes to restore, each layer's parameters counted once.</summary>
    sealed class Recorder
    {
        readonly Module model;
        readonly Dictionary<Module, string> names = new(ReferenceEqualityComparer.Instance);
        readonly List<(Module Module, bool Training)> modes = [];
        readonly HashSet<Module> seen = new(ReferenceEqualityComparer.Instance);
        readonly List<LayerSummary> layers = [];

        public Recorder(Module model)
        {
            this.model = model;
            foreach (var (name, module) in model.NamedModules())
            {
                names.TryAdd(module, name);
                modes.Add((module, module.Training));
            }
        }

        public void Record(Module module, int[] input, int[] output)
        {
            var own = OwnParameters(module);
            if (module.NamedChildren().Any() && own == 0) return;
            string name = names.TryGetValue(module, out var n) && n.Length > 0 ? n : "(model)";
            layers.Add(new LayerSummary(name, module.GetType().Name, [.. output], seen.Add(module) ? own : 0, MultiplyAccumulates(module, input, output)));
        }

        // NamedModules lists parents before children, so each module ends in its own former mode.
        public void RestoreModes()
        {
            foreach (var (module, training) in modes) module.Train(training);
        }

        public ModelSummary Summary(IReadOnlyList<int[]> inputShapes, IEnumerable<KeyValuePair<string, int[]>> outputs, bool inferred) =>
            new(inputShapes.Select(shape => (IReadOnlyList<int>)shape.ToArray()).ToList(),
                outputs.ToDictionary(entry => entry.Key, entry => (IReadOnlyList<int>)entry.Value.ToArray()), layers, model.ParameterCount()) { Inferred = inferred };
    }

    static long OwnParameters(Module module) =>
        module.NamedParameters().Where(p => !p.Name.Contains('.')).Sum(p => (long)p.Parameter.Numel);

    /// <summary>The multiply-accumulates of one call; 0 for layers without weights to multiply (see the class remarks).</summary>
    public static long MultiplyAccumulates(Module module, Tensor input, Tensor output) =>
        MultiplyAccumulates(module, input.Shape.ToArray(), output.Shape.ToArray());

    /// <summary>The multiply-accumulates of one call from its input and output shapes (see the class remarks).</summary>
    public static long MultiplyAccumulates(Module module, int[] inputShape, int[] outputShape) => module switch
    {
        Conv2d conv => Numel(outputShape) * (conv.InChannels / conv.Groups) * conv.KernelSize.Height * conv.KernelSize.Width,
        ConvTranspose2d conv => Numel(inputShape) * (conv.OutChannels / conv.Groups) * conv.KernelSize.Height * conv.KernelSize.Width,
        Linear linear => Numel(outputShape) * linear.InFeatures,
        _ => 0,
    };

    static long Numel(int[] shape) => shape.Aggregate(1L, (count, size) => count * size);

    /// <summary>The table as plain text, one layer per line, then the totals.</summary>
    public override string ToString()
    {
        var rows = Layers.Select(l => new[] { l.Name, l.Type, Shapes.Format(l.OutputShape), Count(l.Parameters), Count(l.MultiplyAccumulates) }).ToList();
        string[] header = ["Layer", "Type", "Output shape", "Params", "MACs"];
        var widths = header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells) => text.AppendLine(string.Join("  ",
            cells.Select((cell, c) => c >= 3 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd());
        string rule = new('─', widths.Sum() + 2 * (widths.Length - 1));
        Line(header);
        text.AppendLine(rule);
        rows.ForEach(Line);
        text.AppendLine(rule);
        text.AppendLine(InputShapes.Count == 1 && Outputs.Count == 1
            ? $"Input shape: {Shapes.Format(InputShape)}   Output shape: {Shapes.Format(OutputShape)}"
            : $"Input shapes: {string.Join(", ", InputShapes.Select(Shapes.Format))}   Outputs: {string.Join(", ", Outputs.Select(o => $"{o.Key} {Shapes.Format(o.Value)}"))}");
        text.AppendLine($"Total params: {Count(TotalParameters)}");
        text.AppendLine($"Total MACs: {Count(TotalMultiplyAccumulates)}");
        return text.ToString();
    }

    static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
