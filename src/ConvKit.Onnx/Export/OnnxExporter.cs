using ConvKit.Autograd;
using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Onnx.Proto;
using Google.Protobuf;

namespace ConvKit.Onnx;

/// <summary>
/// Writes a ConvKit model as an ONNX file (opset 17, IR version 8) that ONNX Runtime and other tools can run:
/// <c>OnnxExporter.Export(model, [1, 3, 224, 224], "resnet18.onnx")</c>. The model is traced once in evaluation
/// mode on an input of the given shape — every op it runs, whether inside a layer or in plain tensor code, is
/// recorded — and the recorded ops become ONNX nodes. Parameters and buffers become initialisers named by their
/// state-dict names (<c>layer1.0.conv1.weight</c>); any other constant becomes an initialiser too. Dropout
/// vanishes and batch norm uses its running statistics. The input is named "input", the output "output" (a model
/// with several named outputs in evaluation mode — <see cref="Module.ForwardOutputs"/> — gets one graph output per
/// name), and axis 0 of both is the symbolic "batch" (see <see cref="OnnxExportOptions"/>). Sizes other than the batch
/// are those of the traced input. An op that has no ONNX translation throws <see cref="NotSupportedException"/>
/// naming it and the layer it ran in.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The ONNX operator set the exported files declare.</summary>
    public const int OpsetVersion = 17;
    /// <summary>The ONNX IR (file format) version the exported files declare.</summary>
    public const long IrVersion = 8;

    /// <summary>The ONNX model as a message.</summary>
    /// <param name="inputShape">the input's shape including the batch axis, e.g. [1, 3, 224, 224]</param>
    public static ModelProto ToModelProto(Module model, int[] inputShape, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d < 1))
            throw new ArgumentException($"OnnxExporter: inputShape must have at least one axis (the batch) and positive sizes, got [{string.Join(", ", inputShape)}].", nameof(inputShape));
        options ??= new OnnxExportOptions();

        var input = Tensor.Randn(inputShape, seed: 0).RequireGrad();
        var (outputs, trace, moduleOutputs) = Trace(model, input);
        var graph = new TraceToOnnx(trace, input, model, moduleOutputs, options).Build(outputs);
        graph.Name = model.GetType().Name;
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "ConvKit",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        if (options.ModelCard != null)
            foreach (var (key, value) in options.ModelCard.ToMetadata().OrderBy(entry => entry.Key, StringComparer.Ordinal))
                proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    /// <summary>The ONNX file's bytes.</summary>
    public static byte[] Export(Module model, int[] inputShape, OnnxExportOptions? options = null) =>
        ToModelProto(model, inputShape, options).ToByteArray();

    /// <summary>Writes the ONNX file to <paramref name="stream"/>.</summary>
    public static void Export(Module model, int[] inputShape, Stream stream, OnnxExportOptions? options = null) =>
        ToModelProto(model, inputShape, options).WriteTo(stream);

    /// <summary>Writes the ONNX file to <paramref name="path"/> atomically (a temporary file, then a rename).</summary>
    public static void Export(Module model, int[] inputShape, string path, OnnxExportOptions? options = null)
    {
        var proto = ToModelProto(model, inputShape, options);
        AtomicFile.Write(path, proto.WriteTo);
    }

    /// <summary>
    /// Runs the model once in evaluation mode with the op trace open, and notes which layer made each layer
    /// output (the innermost, since children finish first) for node names and error messages; the returned trace
    /// is closed but keeps what it saw. Gradient recording is on and the input requires gradients so that an op
    /// that does not report to the trace still leaves its name on its output (<see cref="Tensor.GradFn"/>)
    /// instead of passing for a constant.
    /// </summary>
    static (TensorDict Outputs, OpTrace Trace, Dictionary<Tensor, string> ModuleOutputs) Trace(Module model, Tensor input)
    {
        var modules = model.NamedModules().ToList();
        var names = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in modules) names.TryAdd(module, name);
        var wasTraining = modules.Select(m => m.Module.Training).ToList();
        var moduleOutputs = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        model.Eval();
        try
        {
            using var grad = GradMode.Enable();
            using var trace = OpTrace.Start();
            using var hooks = model.RegisterForwardHookEverywhere((module, inputs, outputs) =>
            {
                Tensor moduleInput = inputs[0], moduleOutput = outputs.Main;
                if (!ReferenceEquals(moduleInput, moduleOutput) && names.TryGetValue(module, out var name))
                    moduleOutputs.TryAdd(moduleOutput, name);
            });
            return (model.ForwardOutputs(input), trace, moduleOutputs);
        }
        finally
        {
            // Pre-order: each module's own flag is set after its ancestors', so every module gets its own back.
            for (int i = 0; i < modules.Count; i++) modules[i].Module.Train(wasTraining[i]);
        }
    }
}
