using ConvKit.NN;
using ConvKit.Onnx.Proto;
using ConvKit.Vision.Models;
using Google.Protobuf;
using Xunit.Abstractions;
using DataType = ConvKit.Onnx.Proto.TensorProto.Types.DataType;

namespace ConvKit.Onnx.Tests;

/// <summary>
/// Intermediate values read with <see cref="FeatureExtractor"/> — of the packaged ResNet-18 (an imported graph, named by
/// its values) and of the zoo's ResNet-18 (named by modules) — against ONNX Runtime running a copy of the model that
/// lists the same values as graph outputs; and the gradient of a scalar of an intermediate value checked by finite
/// differences.
/// </summary>
public class FeatureExtractionTests(ITestOutputHelper output)
{
    static readonly Lazy<OnnxModule> ResNet18 = new(() => OnnxModel.Load(Reference.ResNet18Path));

    // Stem convolution, first residual sum (its only reader, a Relu, would overwrite it in place), an inner Relu of
    // layer 3, a convolution of layer 4, the last Relu, and the graph output.
    static readonly string[] Values =
        ["Convolution249_Output_0", "Plus267_Output_0", "ReLU321_Output_0", "Convolution373_Output_0", "ReLU393_Output_0", "Pooling395_Output_0"];

    /// <summary>The model with <paramref name="names"/> added to its graph outputs, so ONNX Runtime returns them.</summary>
    static byte[] WithOutputs(ModelProto model, IEnumerable<string> names)
    {
        var copy = model.Clone();
        foreach (var name in names.Where(n => copy.Graph.Output.All(o => o.Name != n)))
            copy.Graph.Output.Add(GraphBuilder.ValueInfo(name, DataType.Float, null));
        return copy.ToByteArray();
    }

    static Tensor ResNet18Input() => Tensor.Randn([1, 3, 224, 224], seed: 3) * 60f;

    void CompareWithOnnxRuntime(byte[] model, string inputName, Tensor input, TensorDict features, string what)
    {
        var expected = Reference.Run(model, new Dictionary<string, Tensor> { [inputName] = input });
        foreach (var (name, actual) in features)
        {
            var (values, shape) = expected[name];
            double scale = values.Max(v => Math.Abs((double)v)), error = actual.ToArray().Zip(values).Max(p => Math.Abs(p.First - (double)p.Second));
            output.WriteLine($"{what} {name}: max error {error / scale:G3} of scale {scale:G4}");
            Reference.Close(values, shape, actual, 1e-4, $"{what} {name}");
        }
    }

    [Fact]
    public void PackagedResNet18FeaturesMatchOnnxRuntime()
    {
        var model = ResNet18.Value;
        var x = ResNet18Input();
        var bytes = WithOutputs(OnnxModel.Parse(File.ReadAllBytes(Reference.ResNet18Path), "ResNet18.onnx"), Values);
        var extractor = new FeatureExtractor(model, Values);
        TensorDict features;
        // Without gradients the plan overwrites and recycles dead values; the requested ones must survive that.
        using (Tensor.NoGrad()) features = extractor.Forward(x);
        Assert.Equal(Values, features.Keys);
        CompareWithOnnxRuntime(bytes, model.Inputs[0].Name, x, features, "ResNet18.onnx");

        // The plain forward is unchanged by the feature plan.
        Tensor logits;
        using (Tensor.NoGrad()) logits = model.Forward(x);
        Assert.Equal(features["Pooling395_Output_0"].ToArray(), logits.ToArray());
        Assert.Contains("Input247", model.FeatureNames);
        Assert.DoesNotContain("Parameter91", model.FeatureNames);
    }

    [Fact]
    public void FoldedBatchNormKeepsItsOutputAndRefusesTheConvolutions()
    {
        var model = OnnxModel.Load(Reference.ResNet18Path, new OnnxImportOptions { FoldBatchNorm = true });
        var x = ResNet18Input();
        // The folded convolution computes its batch norm's output, and (followed by a Relu) normally runs fused with it.
        string[] names = ["BatchNormalization259_Output_0", "ReLU261_Output_0", "BatchNormalization389_Output_0"];
        TensorDict features;
        using (Tensor.NoGrad()) features = new FeatureExtractor(model, names).Forward(x);
        CompareWithOnnxRuntime(WithOutputs(OnnxModel.Parse(File.ReadAllBytes(Reference.ResNet18Path), "ResNet18.onnx"), names),
            model.Inputs[0].Name, x, features, "folded ResNet18.onnx");

        Assert.DoesNotContain("Convolution257_Output_0", model.FeatureNames);
        var error = Assert.Throws<ArgumentException>(() => model.ForwardFeatures([x], ["Convolution257_Output_0"]));
        Assert.Contains("FoldBatchNorm", error.Message);
        Assert.Contains("ResNet18.onnx", error.Message);
    }

    /// <summary>
    /// The ONNX value the exporter makes of each layer's output: the exporter names a value after the innermost module
    /// that returned it (children finish first), "_2", "_3", … for later values of the same module (a ReLU used twice).
    /// </summary>
    static Dictionary<string, string> ExportedValueNames(Module model, Tensor input, string[] layers)
    {
        var moduleNames = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in model.NamedModules()) moduleNames.TryAdd(module, name);
        var valueNames = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        var calls = new Dictionary<string, int>();
        TensorDict features;
        using (Tensor.NoGrad())
        using (model.RegisterForwardHookEverywhere((module, inputs, outputs) =>
        {
            string name = moduleNames[module];
            if (ReferenceEquals(inputs[0], outputs.Main) || name.Length == 0 || !valueNames.TryAdd(outputs.Main, name)) return;
            int call = calls[name] = calls.GetValueOrDefault(name) + 1;
            if (call > 1) valueNames[outputs.Main] = $"{name}_{call}";
        }))
            features = new FeatureExtractor(model, layers).Forward(input);
        return layers.ToDictionary(layer => layer, layer => valueNames[features[layer]]);
    }

    [Fact]
    public void ZooResNet18FeaturesMatchOnnxRuntimeOnTheExportedModel()
    {
        var model = ResNet.ResNet18(numClasses: 10);
        model.Eval();
        var x = Tensor.Randn([1, 3, 64, 64], seed: 5);
        string[] layers = ["maxpool", "layer1", "layer2.1.conv2", "layer3.0.downsample", "layer4"];
        var onnxNames = ExportedValueNames(model, x, layers);
        output.WriteLine(string.Join(", ", onnxNames.Select(p => $"{p.Key} → {p.Value}")));

        var proto = OnnxExporter.ToModelProto(model, [1, 3, 64, 64]);
        var produced = proto.Graph.Node.SelectMany(n => n.Output).ToHashSet();
        foreach (var name in onnxNames.Values) Assert.Contains(name, produced);
        TensorDict features;
        using (Tensor.NoGrad()) features = new FeatureExtractor(model, layers).Forward(x);
        var renamed = new TensorDict(features.Select(f => KeyValuePair.Create(onnxNames[f.Key], f.Value)));
        CompareWithOnnxRuntime(WithOutputs(proto, onnxNames.Values), "input", x, renamed, "zoo resnet18");
    }

    [Fact]
    public void GradientOfAnIntermediateValueMatchesFiniteDifferences()
    {
        var model = ResNet18.Value;
        const string value = "Plus281_Output_0"; // layer 1's second residual sum, (1, 64, 56, 56)
        // scalar = Σ w·value over a 4×4 window of every channel, w fixed: local enough that one pixel moves it visibly
        var mask = new float[64 * 56 * 56];
        var w = Tensor.Randn([64, 4, 4], seed: 9).ToArray();
        for (int c = 0; c < 64; c++)
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) mask[(c * 56 + 20 + i) * 56 + 20 + j] = w[(c * 4 + i) * 4 + j];
        var weights = Tensor.FromArray(mask, [1, 64, 56, 56]);
        double Scalar(Tensor input)
        {
            using (Tensor.NoGrad())
                return model.ForwardFeatures([input], [value])[0].ToArray().Zip(mask).Sum(p => (double)p.First * p.Second);
        }

        var x = ResNet18Input().RequireGrad();
        var loss = (model.ForwardFeatures([x], [value])[0] * weights).Sum();
        loss.Backward();
        var gradient = x.Grad!.ToArray();

        // The pixels the scalar depends on most, and some fixed ones of its receptive field.
        int Index(int c, int h, int w) => (c * 224 + h) * 224 + w;
        var pixels = Enumerable.Range(0, gradient.Length).OrderByDescending(i => Math.Abs(gradient[i])).Take(4)
            .Concat([Index(0, 86, 86), Index(1, 80, 92), Index(2, 90, 84)]).Distinct().ToList();
        double scale = pixels.Max(i => Math.Abs(gradient[i])), worst = 0;
        const float step = 0.5f; // inputs are ~60 in size: small enough to stay between ReLU kinks, large against float32 rounding
        var values = x.Detach().ToArray();
        foreach (int pixel in pixels)
        {
            var plus = (float[])values.Clone();
            var minus = (float[])values.Clone();
            plus[pixel] += step;
            minus[pixel] -= step;
            double numeric = (Scalar(Tensor.FromArray(plus, [1, 3, 224, 224])) - Scalar(Tensor.FromArray(minus, [1, 3, 224, 224]))) / (2 * step);
            output.WriteLine($"pixel {pixel}: autograd {gradient[pixel]:G6}, central difference {numeric:G6}");
            worst = Math.Max(worst, Math.Abs(numeric - gradient[pixel]));
        }
        output.WriteLine($"max error {worst / scale:G3} of scale {scale:G4}");
        // 0.2% of the largest gradient checked (about 2e-4 measured: float32 rounding over the step); the fixed pixels'
        // gradients are 5–50% of it, so a gradient off by a percent, reaching the wrong pixels or missing a term fails.
        Assert.True(worst <= 2e-3 * scale, $"finite differences differ from autograd by {worst:G3} (scale {scale:G3})");
        Assert.True(pixels.Skip(4).All(i => Math.Abs(gradient[i]) > 1e-2 * scale), "the fixed pixels should matter to the scalar");
    }

    [Fact]
    public void UnknownNamesThrowNamingTheModelAndSomeKnownNames()
    {
        var model = ResNet18.Value;
        var error = Assert.Throws<ArgumentException>(() => new FeatureExtractor(model, "ReLU261_Output_0", "layer1"));
        Assert.Contains("'layer1'", error.Message);
        Assert.Contains("Convolution249_Output_0", error.Message);

        error = Assert.Throws<ArgumentException>(() => model.ForwardFeatures([ResNet18Input()], ["ReLU99_Output_0"]));
        Assert.Contains("ResNet18.onnx", error.Message);
        Assert.Contains("'ReLU99_Output_0'", error.Message);
        Assert.Contains("ReLU", error.Message);
        error = Assert.Throws<ArgumentException>(() => model.ForwardFeatures([ResNet18Input()], ["Parameter91"]));
        Assert.Contains("initialiser", error.Message);
        // (Unknown module names of zoo models: ConvKit.Vision.Tests' FeatureExtractorTests.)
    }
}
