using ConvKit.Data;
using ConvKit.Ops;
using ConvKit.Onnx.Proto;
using Google.Protobuf;
using DataType = ConvKit.Onnx.Proto.TensorProto.Types.DataType;

namespace ConvKit.Onnx.Tests;

/// <summary>Loading: bad files and unsupported content, declared shapes, parameter names, BN folding, real images, gradients.</summary>
public class ImportTests
{
    static GraphBuilder SmallConvNet(long opset = 13) => new GraphBuilder(opset).Input("image", [2, 3, 8, 8], symbols: ["batch", null, null, null])
        .Weight("features.0.weight", [4, 3, 3, 3]).Weight("features.0.bias", [4])
        .Weight("bn.weight", [4], 0.2f, 1f).Weight("bn.bias", [4]).Weight("bn.running_mean", [4]).Weight("bn.running_var", [4], 0.2f, 1f)
        .Weight("fc.weight", [5, 4]).Weight("fc.bias", [5])
        .Node("Conv", ["image", "features.0.weight", "features.0.bias"], ["c"], ("pads", new[] { 1, 1, 1, 1 }))
        .Node("BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["n"])
        .Node("Relu", ["n"], ["r"]).Node("GlobalAveragePool", ["r"], ["p"]).Node("Flatten", ["p"], ["f"])
        .Node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], ("transB", 1)).Output("logits");

    static string TempFile(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"convkit-onnx-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void TruncatedFileNamesTheFile()
    {
        var bytes = SmallConvNet().Bytes();
        string path = TempFile(bytes[..(bytes.Length / 2)]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("truncated", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void GarbageBytesAreInvalidData()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            var bytes = new byte[1 + random.Next(4000)];
            random.NextBytes(bytes);
            var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(bytes, source: "garbage.onnx"));
            Assert.Contains("garbage.onnx", e.Message);
        }
        Assert.Throws<InvalidDataException>(() => OnnxModel.Load([], source: "empty.onnx"));
    }

    [Fact]
    public void UnknownOpNamesOpNodeAndOpset()
    {
        var bytes = new GraphBuilder(13).Input("x", [1, 2]).Node("FancyOp", ["x"], ["y"]).Output("y").Bytes();
        var e = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(bytes));
        Assert.Equal(("FancyOp", "FancyOp_0", 13L), (e.OpType, e.NodeName, e.Opset));
        Assert.Contains("FancyOp node 'FancyOp_0' (opset 13)", e.Message);
    }

    [Fact]
    public void UnsupportedOpsetAttributeAndDataTypeAreNamed()
    {
        var old = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(new GraphBuilder(5).Input("x", [1, 2]).Node("Relu", ["x"], ["y"]).Output("y").Bytes()));
        Assert.Contains("opset 5", old.Message);

        var wrap = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(new GraphBuilder(19).Input("x", [1, 2]).Ints("p", [0, 1, 0, 1], 4)
            .Node("Pad", ["x", "p"], ["y"], ("mode", "wrap")).Output("y").Bytes()));
        Assert.Contains("Pad node 'Pad_0'", wrap.Message);
        Assert.Contains("wrap", wrap.Message);

        var builder = new GraphBuilder(13).Input("x", [2]).Node("Add", ["x", "h"], ["y"]).Output("y");
        var model = builder.Model();
        var half = new TensorProto { Name = "h", DataType = (int)DataType.Float16, RawData = ByteString.CopyFrom(new byte[4]) };
        half.Dims.Add(2);
        model.Graph.Initializer.Add(half);
        var e = Assert.Throws<OnnxNotSupportedException>(() => OnnxModel.Load(model.ToByteArray()));
        Assert.Contains("Float16", e.Message);
        Assert.Contains("'h'", e.Message);
    }

    [Fact]
    public void WrongInputShapeNamesInputAndBothShapes()
    {
        var model = OnnxModel.Load(SmallConvNet().Bytes());
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(2, 3, 8)));
        Assert.Contains("'image'", e.Message);
        Assert.Contains("[batch, 3, 8, 8]", e.Message);
        Assert.Contains("[2, 3, 8]", e.Message);
        Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(2, 1, 8, 8)));
    }

    [Fact]
    public void DeclaredShapesKeepSymbolicDimensions()
    {
        var model = OnnxModel.Load(SmallConvNet().Bytes());
        var input = Assert.Single(model.Inputs);
        Assert.Equal("image", input.Name);
        Assert.Equal("float", input.ElementType);
        Assert.Equal([new OnnxDim(null, "batch"), new OnnxDim(3, null), new OnnxDim(8, null), new OnnxDim(8, null)], input.Shape!);
        Tensor y;
        using (Tensor.NoGrad()) y = model.Forward(Tensor.Randn([5, 3, 8, 8], seed: 3));
        Assert.Equal([5, 5], y.Shape.ToArray());
    }

    [Fact]
    public void InitializersBecomeNamedParametersAndBuffers()
    {
        var builder = SmallConvNet();
        var model = builder.Model();
        // Names that cannot nest: a clash between "fc" as a weight and as a group, and an empty segment.
        model.Graph.Initializer.Add(new TensorProto { Name = "fc", DataType = (int)DataType.Float, Dims = { 1 }, FloatData = { 1f } });
        model.Graph.Initializer.Add(new TensorProto { Name = "odd..name", DataType = (int)DataType.Float, Dims = { 1 }, FloatData = { 2f } });
        var module = OnnxModel.Load(model.ToByteArray());
        var parameters = module.NamedParameters().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "features.0.weight", "features.0.bias", "bn.weight", "bn.bias", "fc.weight", "fc.bias", "fc%", "odd%2E%2Ename" }, parameters);
        Assert.Equal(["bn.running_mean", "bn.running_var"], module.NamedBuffers().Select(b => b.Name).Order());
        Assert.Equal("fc%", module.ParameterNames["fc"]);
        Assert.Equal("fc.weight", module.ParameterNames["fc.weight"]);
        Assert.Equal("odd%2E%2Ename", module.ParameterNames["odd..name"]);
        Assert.Equal(4 * 27 + 4 + 4 + 4 + 20 + 5 + 2, module.ParameterCount());
        Assert.All(module.Parameters(), p => Assert.True(p.RequiresGrad));
    }

    [Fact]
    public void InferenceFusesConvReluAndOverwritesOnlyDeadValuesItMade()
    {
        // c1 → Relu fuses; c2 is a graph output, so its Relu does not; r2 dies at the first Add, which may reuse it
        // but not the graph input residual; the Relu after Reshape reads a view of a1 (which has negative values and
        // is read again later), so it must not run in place; the last Add may reuse r1, made by the first Relu.
        var builder = new GraphBuilder(13).Input("x", [1, 3, 8, 8]).Input("residual", [1, 4, 8, 8])
            .Weight("w1", [4, 3, 3, 3]).Weight("b1", [4]).Weight("w2", [4, 4, 3, 3])
            .Ints("flat", [1, 4, 64], 3).Ints("square", [1, 4, 8, 8], 4)
            .Node("Conv", ["x", "w1", "b1"], ["c1"], ("pads", new[] { 1, 1, 1, 1 })).Node("Relu", ["c1"], ["r1"])
            .Node("Conv", ["r1", "w2"], ["c2"], ("pads", new[] { 1, 1, 1, 1 })).Node("Relu", ["c2"], ["r2"])
            .Node("Add", ["r2", "residual"], ["a1"])
            .Node("Reshape", ["a1", "flat"], ["v"]).Node("Relu", ["v"], ["rv"]).Node("Reshape", ["rv", "square"], ["rb"])
            .Node("Sub", ["rb", "a1"], ["d"]).Node("Add", ["d", "r1"], ["out"])
            .Output("c2").Output("out");
        var bytes = builder.Bytes();
        var expected = Reference.Run(bytes, builder.Feeds);
        var model = OnnxModel.Load(bytes);
        var inputs = builder.Feeds.ToDictionary(p => p.Key, p => p.Value.Clone());
        foreach (bool recording in new[] { false, true })
        {
            IReadOnlyDictionary<string, Tensor> outputs;
            using (IDisposable? scope = recording ? null : Tensor.NoGrad()) outputs = model.Run(inputs);
            foreach (var name in new[] { "c2", "out" })
                Reference.Close(expected[name].Values, expected[name].Shape, outputs[name], 1e-5, $"{name} (recording: {recording})");
            foreach (var (name, fed) in builder.Feeds) Assert.Equal(fed.ToArray(), inputs[name].ToArray());
        }
    }

    [Fact]
    public void InferenceNeverOverwritesAValueAnotherStillSees()
    {
        // c dies at the Add, but Identity made y, which shares c's storage and is read after the Add.
        var builder = new GraphBuilder(13).Input("x", [1, 2, 5, 5]).Input("z", [1, 3, 5, 5]).Weight("w", [3, 2, 3, 3])
            .Node("Conv", ["x", "w"], ["c"], ("pads", new[] { 1, 1, 1, 1 })).Node("Identity", ["c"], ["y"])
            .Node("Add", ["c", "z"], ["s"]).Node("Mul", ["y", "s"], ["out"]).Output("out");
        var expected = Reference.Run(builder.Bytes(), builder.Feeds)["out"];
        IReadOnlyDictionary<string, Tensor> outputs;
        using (Tensor.NoGrad()) outputs = OnnxModel.Load(builder.Bytes()).Run(builder.Feeds);
        Reference.Close(expected.Values, expected.Shape, outputs["out"], 1e-5, "out");
    }

    [Fact]
    public void InferenceReusesOnlyMemoryNothingElseHolds()
    {
        // c dies at the first Add, but Reshape made v, a view of c read at the end; the second Conv's output has c's
        // size, so it would land in c's memory if c were handed back for reuse. Large enough to be reused (≥ 4096).
        var builder = new GraphBuilder(13).Input("x", [1, 4, 32, 32]).Input("z", [1, 4, 32, 32])
            .Weight("w1", [4, 4, 3, 3]).Weight("w2", [4, 4, 3, 3]).Ints("flat", [1, 4, 1024], 3).Ints("square", [1, 4, 32, 32], 4)
            .Node("Conv", ["x", "w1"], ["c"], ("pads", new[] { 1, 1, 1, 1 })).Node("Reshape", ["c", "flat"], ["v"])
            .Node("Add", ["c", "z"], ["s"]).Node("Conv", ["x", "w2"], ["c2"], ("pads", new[] { 1, 1, 1, 1 }))
            .Node("Add", ["s", "c2"], ["t"]).Node("Reshape", ["v", "square"], ["back"]).Node("Mul", ["back", "t"], ["out"])
            .Output("out");
        var expected = Reference.Run(builder.Bytes(), builder.Feeds)["out"];
        var model = OnnxModel.Load(builder.Bytes());
        for (int run = 0; run < 3; run++)
        {
            IReadOnlyDictionary<string, Tensor> outputs;
            using (Tensor.NoGrad()) outputs = model.Run(builder.Feeds);
            Reference.Close(expected.Values, expected.Shape, outputs["out"], 1e-5, $"out, run {run}");
        }
    }

    [Fact]
    public void BatchNormFoldingKeepsResNet18Outputs()
    {
        var plain = OnnxModel.Load(Reference.ResNet18Path);
        var folded = OnnxModel.Load(Reference.ResNet18Path, new OnnxImportOptions { FoldBatchNorm = true });
        Assert.False(folded.OpHistogram.ContainsKey("BatchNormalization"));
        Assert.Equal(plain.OpHistogram["Conv"], folded.OpHistogram["Conv"]);
        var x = Tensor.Randn([1, 3, 224, 224], seed: 7) * 60f;
        using var _ = Tensor.NoGrad();
        var expected = plain.Forward(x);
        Reference.Close(expected.ToArray(), [.. expected.Shape], folded.Forward(x), 1e-4, "folded ResNet-18");
    }

    [Fact]
    public void BatchNormFoldingOfSmallNet()
    {
        var bytes = SmallConvNet().Bytes();
        var folded = OnnxModel.Load(bytes, new OnnxImportOptions { FoldBatchNorm = true });
        Assert.DoesNotContain("bn.running_mean", folded.StateDict().Keys);
        var x = Tensor.Randn([3, 3, 8, 8], seed: 2);
        using var _ = Tensor.NoGrad();
        var expected = OnnxModel.Load(bytes).Forward(x);
        Reference.Close(expected.ToArray(), [.. expected.Shape], folded.Forward(x), 1e-5, "folded small net");
    }

    /// <summary>
    /// Fashion-MNIST test images, resized to 224×224, as grey 0–255 pixels repeated to three channels, through the
    /// package's own preprocessing graph (channel swap to BGR, minus the mean image) and ResNet-18: ConvKit and ONNX
    /// Runtime agree at each stage.
    /// </summary>
    [Fact]
    public void RealImagesMatchOnnxRuntime()
    {
        var dataset = IdxDatasets.FashionMnist(train: false);
        var preprocess = OnnxModel.Load(Reference.PreprocessPath);
        var resnet = OnnxModel.Load(Reference.ResNet18Path);
        foreach (int index in new[] { 0, 1 })
        {
            var (image, _) = dataset[index];
            Tensor pixels;
            using (Tensor.NoGrad())
                pixels = (F.Upsample(image.Reshape(1, 1, 28, 28), size: 224, mode: UpsampleMode.Bilinear) * 255f).Expand(1, 3, 224, 224);
            var prepFeeds = new Dictionary<string, Tensor> { [preprocess.Inputs[0].Name] = pixels };
            var (prepValues, prepShape) = Reference.Run(Reference.PreprocessPath, prepFeeds).Single().Value;
            Tensor prepared, features;
            using (Tensor.NoGrad()) prepared = preprocess.Forward(pixels);
            Reference.Close(prepValues, prepShape, prepared, 1e-6, $"preprocessing of image {index}");

            var (values, shape) = Reference.Run(Reference.ResNet18Path, new Dictionary<string, Tensor> { [resnet.Inputs[0].Name] = prepared }).Single().Value;
            using (Tensor.NoGrad()) features = resnet.Forward(prepared);
            Reference.Close(values, shape, features, 1e-4, $"ResNet-18 features of Fashion-MNIST test image {index}");
        }
    }

    /// <summary>
    /// Backward through an imported graph reaches the initialiser parameters, with the gradients of the same
    /// computation written with ConvKit's ops, and a finite-difference check on some conv weights.
    /// </summary>
    [Fact]
    public void GradientsReachInitializers()
    {
        var builder = SmallConvNet();
        var model = OnnxModel.Load(builder.Bytes());
        var x = builder.Feeds["image"];
        var probe = Tensor.Randn([2, 5], seed: 11);
        (model.Forward(x) * probe).Sum().Backward();

        var p = model.StateDict().ToDictionary(e => e.Key, e => e.Value.Clone().Detach().RequireGrad());
        Tensor Native(Tensor convWeight)
        {
            var c = F.Conv2d(x, convWeight, p["features.0.bias"], padding: 1);
            var n = F.BatchNorm(c, p["bn.running_mean"], p["bn.running_var"], p["bn.weight"], p["bn.bias"], training: false);
            return F.Linear(F.Relu(n).Mean([2, 3]), p["fc.weight"], p["fc.bias"]);
        }
        (Native(p["features.0.weight"]) * probe).Sum().Backward();
        foreach (var (name, parameter) in model.NamedParameters())
        {
            Assert.NotNull(parameter.Grad);
            Assert.Equal(p[name].Grad!.ToArray(), parameter.Grad!.ToArray(), new Tolerance(1e-5f));
        }

        // Central differences in the loss for a few conv weights.
        var weight = p["features.0.weight"].Detach().ToArray();
        var analytic = model.NamedParameters().Single(e => e.Name == "features.0.weight").Parameter.Grad!.ToArray();
        using var _ = Tensor.NoGrad();
        foreach (int i in new[] { 0, 13, 50, 107 })
        {
            double Loss(float delta)
            {
                var w = (float[])weight.Clone();
                w[i] += delta;
                return (Native(Tensor.FromArray(w, 4, 3, 3, 3)) * probe).Sum().Item();
            }
            double numeric = (Loss(1e-2f) - Loss(-1e-2f)) / 2e-2;
            Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-3 + 1e-2 * Math.Abs(analytic[i]), $"weight {i}: numeric {numeric} vs analytic {analytic[i]}");
        }
    }

    sealed class Tolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance * (1 + Math.Abs(b));
        public int GetHashCode(float value) => 0;
    }
}
