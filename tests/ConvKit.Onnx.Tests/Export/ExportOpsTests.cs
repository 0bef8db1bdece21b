using ConvKit.Autograd;
using ConvKit.NN;
using ConvKit.Onnx.Proto;
using ConvKit.Ops;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>Each op translation, run by ONNX Runtime at a batch other than the traced one, against ConvKit.</summary>
public class ExportOpsTests
{
    /// <summary>Layers and plain tensor code mixed, touching every translation the zoo does not.</summary>
    sealed class Mixed : Module
    {
        readonly Conv2d strided = new(3, 4, 3, stride: 2, padding: "same");
        readonly ConvTranspose2d up = new(4, 4, 3, stride: 2, padding: 1, outputPadding: 1, bias: false);
        readonly BatchNorm2d plainNorm = new(4, affine: false);
        readonly Linear rows = new(6, 5);
        readonly Tensor mix = Tensor.Randn([5, 3], seed: 5);

        public Mixed()
        {
            RegisterModule("strided", strided);
            RegisterModule("up", up);
            RegisterModule("plain_norm", plainNorm);
            RegisterModule("rows", rows);
            using (Tensor.NoGrad())
            {
                plainNorm.RunningMean!.CopyFrom(Tensor.Randn([4], seed: 1) * 0.1f);
                plainNorm.RunningVar!.CopyFrom(Tensor.Rand([4], seed: 2) + 0.5f);
            }
        }

        protected override Tensor ForwardCore(Tensor x)
        {
            var y = F.LeakyRelu(strided.Forward(x), 0.2f);                       // (N, 4, 6, 6)
            y = plainNorm.Forward(up.Forward(y));                                 // (N, 4, 12, 12)
            y = F.Relu6(y) + F.Sigmoid(y) * F.Tanh(y) - y / 3f;
            y = F.Clamp(F.Maximum(y, F.Minimum(y * 2f, F.Neg(y))), -1f, 2f);
            y = F.Upsample(y, scaleFactor: 2);                                    // (N, 4, 24, 24)
            y = F.Upsample(y, size: (13, 11), mode: UpsampleMode.Bilinear);       // (N, 4, 13, 11)
            y = F.AvgPool2d(y, 3, stride: 2, padding: 1, countIncludePad: false); // (N, 4, 7, 6)
            y = F.MaxPool2d(y, 2, ceilMode: true);                                // (N, 4, 4, 3)
            y = F.AdaptiveAvgPool2d(y, (3, 2));                                   // uneven windows
            var z = F.Flatten(F.Permute(y, 0, 1, 3, 2), 2);                       // (N, 4, 6)
            z = rows.Forward(z);                                                  // (N, 4, 5), Linear on 3 axes
            z = F.Softmax(z, -1) + F.LogSoftmax(z, 1);
            z = F.MatMul(F.Exp(z) + F.Sqrt(F.Abs(z)) + F.Log(F.Square(z) + 1f), mix); // (N, 4, 3)
            return F.Flatten(z, 1);
        }
    }

    /// <summary>A custom head of plain tensor code: the ops that once reached autograd but not the exporter.</summary>
    sealed class Head : Module
    {
        readonly Conv2d conv = new(3, 4, 3, padding: 1);

        public Head() => RegisterModule("conv", conv);

        protected override Tensor ForwardCore(Tensor x)
        {
            var y = conv.Forward(x);                                               // (N, 4, 6, 6)
            var energy = F.Mean(y.Pow(2f), [2, 3], keepDim: true);                 // (N, 4, 1, 1)
            var peak = F.Max(y, [2, 3]);                                           // (N, 4)
            var low = F.Min(y, [1], keepDim: true);                                // (N, 1, 6, 6)
            var spread = F.Expand(energy, -1, -1, 6, 6) + F.Expand(low, -1, 4, -1, -1);
            var rows = F.Slice(spread, 2, 1, 6, step: 2) + F.Narrow(y, 2, 0, 3);   // (N, 4, 3, 6)
            var total = F.Sum(rows, [1, 3]) + F.Sum(rows.Clone().Abs().Pow(0.5f), [3]).Sum([1]); // (N, 3)
            var where = F.ArgMax(rows, 3, keepDim: false);                         // (N, 4, 3)
            return F.Concat([F.Flatten(rows, 1), peak, total, F.Flatten(where, 1), F.Var(y, [2, 3])], 1);
        }
    }

    /// <summary>Comparisons (0/1 floats) and Where, whose ONNX forms work on booleans.</summary>
    sealed class Masks : Module
    {
        protected override Tensor ForwardCore(Tensor x)
        {
            var rounded = F.Clamp(x, -1f, 1f);             // many values exactly 1 or -1: ties for every comparison
            var one = Tensor.Ones([1]);
            var flags = F.Concat([F.Eq(rounded, one), F.Ne(rounded, one), F.Lt(x, one), F.Le(rounded, one), F.Gt(x, one * 0f), F.Ge(rounded, -one)], 1);
            var rest = F.Concat([F.Sign(x), F.Relu(x), F.Pow(F.Abs(x) + 1f, x), F.LocalResponseNorm(x, 3)], 1);
            return F.Concat([flags, F.Where(F.Gt(x, one * 0f), x, x * -3f), F.Where(flags.Narrow(1, 0, 3), x, one), rest], 1);
        }
    }

    /// <summary>RoI pooling of fixed boxes of every picture, partly outside the map, both RoIAlign coordinate modes.</summary>
    sealed class Regions : Module
    {
        readonly Conv2d conv = new(3, 4, 3, padding: 1);
        readonly Tensor boxes = Tensor.FromArray([
            0, 1.5f, 2.25f, 12.5f, 9f,
            2, -3f, -1f, 6.5f, 7.75f,
            1, 10f, 11f, 19f, 18.5f,
            0, 4.2f, 4.6f, 4.3f, 4.6f,
        ], 4, 5);

        public Regions() => RegisterModule("conv", conv);

        protected override Tensor ForwardCore(Tensor x)
        {
            var y = conv.Forward(x);                                                           // (N, 4, 8, 8)
            return F.Concat([F.RoiPool(y, boxes, 2, spatialScale: 0.5f),                        // (4, 4, 2, 2) each
                F.RoiAlign(y, boxes, 2, spatialScale: 0.5f, samplingRatio: 2),
                F.RoiAlign(y, boxes, 2, spatialScale: 0.5f, aligned: true)], 1);
        }
    }

    /// <summary>MobileNetV3's gates and ConvNeXt's GELU (exact, through erf) and layer norm over channels-last and trailing axes.</summary>
    sealed class Gates : Module
    {
        readonly Conv2d conv = new(3, 6, 3, padding: 1);
        readonly Tensor weight = Tensor.Rand([6], seed: 11) + 0.5f, bias = Tensor.Randn([6], seed: 12) * 0.1f;

        public Gates() => RegisterModule("conv", conv);

        protected override Tensor ForwardCore(Tensor x)
        {
            var y = conv.Forward(x) * 3f;                                                    // (N, 6, 5, 5), values beyond ±3
            var gated = F.HardSwish(y) * F.HardSigmoid(F.Mean(y, [2, 3], keepDim: true));    // squeeze-and-excitation's shape
            var last = F.LayerNorm(F.Permute(gated, 0, 2, 3, 1), [6], weight, bias, eps: 1e-6f); // (N, 5, 5, 6)
            var gelu = F.Gelu(last) - F.Erf(last) * 0.25f;
            return F.LayerNorm(gelu, [5, 6]);                                                // no weight or bias
        }
    }

    [Fact]
    public void GatesGeluAndLayerNormMatchOnnxRuntime() => OrtCheck.ExportAndCompare(new Gates(), Tensor.Randn([3, 3, 5, 5], seed: 10), "gates");

    [Fact]
    public void RoiPoolingMatchesOnnxRuntime()
    {
        // Traced and run at batch 3: the boxes name pictures 1 and 2, and the output has a row per box, not per picture.
        var model = new Regions();
        var input = Tensor.Randn([3, 3, 8, 8], seed: 9);
        var (values, shape) = OrtCheck.Run(OnnxExporter.Export(model, [3, 3, 8, 8]), input);
        Tensor convKit;
        using (Tensor.NoGrad()) convKit = model.Eval().Forward(input);
        Reference.Close(values, shape, convKit, 1e-4, "regions");
    }

    [Fact]
    public void ComparisonsAndWhereMatchOnnxRuntime()
    {
        var x = Tensor.Randn([3, 3, 4, 4], seed: 8);
        using (Tensor.NoGrad()) x = F.Where(F.Gt(x, Tensor.Ones([1])), Tensor.Ones([1]), x); // some values exactly 1
        OrtCheck.ExportAndCompare(new Masks(), x, "masks");
    }

    [Fact]
    public void PowExpandSliceAndReductionsMatchOnnxRuntime()
    {
        var model = new Head();
        OrtCheck.ExportAndCompare(model, Tensor.Randn([3, 3, 6, 6], seed: 7), "head");
    }

    /// <summary>Every op the exporter claims to translate is exercised by one of the models above.</summary>
    [Fact]
    public void TheModelsAboveTraceEveryTranslatedOp()
    {
        var traced = new HashSet<string>();
        foreach (var (model, input) in new (Module, Tensor)[]
                 {
                     (new Mixed(), Tensor.Randn([1, 3, 12, 12], seed: 1)), (new Head(), Tensor.Randn([1, 3, 6, 6], seed: 1)),
                     (new Masks(), Tensor.Randn([1, 3, 4, 4], seed: 1)), (new Regions(), Tensor.Randn([3, 3, 8, 8], seed: 1)),
                     (new Gates(), Tensor.Randn([1, 3, 5, 5], seed: 1)),
                 })
        {
            using var trace = OpTrace.Start();
            using (Tensor.NoGrad()) model.Eval().Forward(input);
            traced.UnionWith(trace.Ops.Select(op => op.Op));
        }
        Assert.Empty(OnnxOpCoverage.Translated.Except(traced));
    }

    /// <summary>A classifier's predicted class per row: an Int32 output.</summary>
    sealed class Predict : Module
    {
        readonly Linear fc = new(6, 5);

        public Predict() => RegisterModule("fc", fc);

        protected override Tensor ForwardCore(Tensor x) => F.ArgMax(fc.Forward(x), 1);
    }

    [Fact]
    public void ArgMaxExportsAsAnInt32OutputThatOnnxRuntimeRuns()
    {
        var model = new Predict();
        var input = Tensor.Randn([4, 6], seed: 3);
        var bytes = OnnxExporter.Export(model, [1, 6]);
        Assert.Equal((int)TensorProto.Types.DataType.Int32, ModelProto.Parser.ParseFrom(bytes).Graph.Output.Single().Type.TensorType.ElemType);
        using var session = new InferenceSession(bytes);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input.ToArray(), [4, 6]))]);
        Tensor convKit;
        using (Tensor.NoGrad()) convKit = model.Eval().Forward(input);
        Assert.Equal(convKit.ToInt32Array(), results.Single().AsTensor<int>().ToArray());
    }

    [Fact]
    public void MixedLayersAndTensorCodeMatchOnnxRuntime()
    {
        var model = new Mixed();
        OrtCheck.ExportAndCompare(model, Tensor.Randn([3, 3, 12, 12], seed: 4), "mixed");
    }
}
