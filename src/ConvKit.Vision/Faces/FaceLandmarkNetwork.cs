using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Faces;

/// <summary>
/// face-api.js's 68-point face landmark network (356,840 parameters): a normalised (N, 3, 112, 112) face to (N, 136)
/// numbers, x and y interleaved for the 68 points of the iBUG 300-W layout (jaw 0–16, brows 17–26, nose 27–35, eyes
/// 36–47, mouth 48–67), as fractions of the input square. Four dense blocks, each halving the picture with TF "same"
/// padding (the extra row and column at the bottom/right), 112 → 56 → 28 → 14 → 7; then a 7×7/2 average pool and a
/// dense layer 256 → 136. A dense block of width C:
/// <code>
/// a = ReLU(conv0(x))              stride 2 (dense0: a full 3×3 conv 3→32 + bias; the others separable)
/// b = sep1(a); c = sep2(ReLU(a + b)); d = sep3(ReLU(a + b + c))     separable: 3×3 depthwise, 1×1 pointwise + bias
/// out = ReLU(a + b + c + d)
/// </code>
/// Sub-modules named as the TF.js tensors (<c>dense0.conv0</c>, <c>dense1.conv0.depthwise</c>, …, <c>fc</c>).
/// </summary>
public sealed class FaceLandmarkNetwork : Module
{
    /// <summary>The side of the square face picture the network takes.</summary>
    public const int InputSize = 112;

    /// <summary>Points found per face.</summary>
    public const int PointCount = 68;

    static readonly int[] Widths = [32, 64, 128, 256];

    readonly DenseBlock[] blocks;
    readonly Linear fc;

    /// <summary>The network with zero weights; <see cref="Load"/> reads the pretrained ones.</summary>
    public FaceLandmarkNetwork()
    {
        blocks = [.. Widths.Select((width, i) => RegisterModule($"dense{i}", new DenseBlock(i == 0 ? 3 : Widths[i - 1], width, first: i == 0)))];
        fc = RegisterModule("fc", new Linear(Widths[^1], 2 * PointCount));
    }

    /// <summary>The network with the weights of <c>face_landmark_68_model-weights_manifest.json</c> (and its <c>.bin</c>).</summary>
    public static FaceLandmarkNetwork Load(string manifestPath) => FromTfjs(TfjsWeights.Load(manifestPath));

    /// <summary>The network with weights read by <see cref="TfjsWeights"/>; throws when a tensor is missing, misshapen or extra.</summary>
    public static FaceLandmarkNetwork FromTfjs(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var network = new FaceLandmarkNetwork();
        var map = new TfjsWeightMap(tensors, "face landmark network");
        for (int i = 0; i < network.blocks.Length; i++) network.blocks[i].Load(map, $"dense{i}");
        using (Tensor.NoGrad())
        {
            network.fc.Weight.CopyFrom(map.Take("fc/weights", Widths[^1], 2 * PointCount).Transpose(0, 1));
            network.fc.Bias!.CopyFrom(map.Take("fc/bias", 2 * PointCount));
        }
        map.CheckAllUsed();
        network.Eval();
        return network;
    }

    /// <param name="input">(N, 3, 112, 112), normalised as <see cref="FaceLandmarker"/> does</param>
    /// <returns>(N, 136): x0, y0, x1, y1, … as fractions of the input square</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != 3 || input.Shape[2] != InputSize || input.Shape[3] != InputSize)
            throw new ArgumentException($"FaceLandmarkNetwork: expected an input of shape (N, 3, {InputSize}, {InputSize}), got [{string.Join(", ", input.Shape)}].");
        var x = input;
        foreach (var block in blocks) x = block.Forward(x);
        return fc.Forward(F.Flatten(F.AvgPool2d(x, 7, stride: 2), 1));
    }

    /// <summary>A 3×3 depthwise convolution (TF "same" padding) then a 1×1 pointwise convolution with bias.</summary>
    sealed class SeparableConv : Module
    {
        readonly Conv2d depthwise, pointwise;

        public SeparableConv(int inChannels, int outChannels, int stride)
        {
            depthwise = RegisterModule("depthwise", new Conv2d(inChannels, inChannels, 3, stride: stride, padding: Padding.Same, groups: inChannels, bias: false));
            pointwise = RegisterModule("pointwise", new Conv2d(inChannels, outChannels, 1));
        }

        public void Load(TfjsWeightMap map, string prefix)
        {
            TfjsWeightMap.Load(depthwise, map.DepthwiseFilter($"{prefix}/depthwise_filter", 3, depthwise.InChannels), null);
            TfjsWeightMap.Load(pointwise, map.Filter($"{prefix}/pointwise_filter", 1, pointwise.InChannels, pointwise.OutChannels), map.Take($"{prefix}/bias", pointwise.OutChannels));
        }

        protected override Tensor ForwardCore(Tensor input) => pointwise.Forward(depthwise.Forward(input));
    }

    /// <summary>One dense block (see the class summary).</summary>
    sealed class DenseBlock : Module
    {
        readonly Conv2d? firstConv;
        readonly SeparableConv? firstSeparable;
        readonly SeparableConv conv1, conv2, conv3;

        public DenseBlock(int inChannels, int width, bool first)
        {
            if (first) firstConv = RegisterModule("conv0", new Conv2d(inChannels, width, 3, stride: 2, padding: Padding.Same));
            else firstSeparable = RegisterModule("conv0", new SeparableConv(inChannels, width, stride: 2));
            conv1 = RegisterModule("conv1", new SeparableConv(width, width, 1));
            conv2 = RegisterModule("conv2", new SeparableConv(width, width, 1));
            conv3 = RegisterModule("conv3", new SeparableConv(width, width, 1));
        }

        public void Load(TfjsWeightMap map, string prefix)
        {
            if (firstConv != null)
                TfjsWeightMap.Load(firstConv, map.Filter($"{prefix}/conv0/filters", 3, firstConv.InChannels, firstConv.OutChannels), map.Take($"{prefix}/conv0/bias", firstConv.OutChannels));
            else firstSeparable!.Load(map, $"{prefix}/conv0");
            conv1.Load(map, $"{prefix}/conv1");
            conv2.Load(map, $"{prefix}/conv2");
            conv3.Load(map, $"{prefix}/conv3");
        }

        protected override Tensor ForwardCore(Tensor input)
        {
            var a = F.Relu(firstConv != null ? firstConv.Forward(input) : firstSeparable!.Forward(input));
            var b = conv1.Forward(a);
            var c = conv2.Forward(F.Relu(a + b));
            var d = conv3.Forward(F.Relu(a + b + c));
            return F.Relu(a + b + c + d);
        }
    }
}
