using ConvKit.IO;
using ConvKit.NN;

namespace ConvKit.Vision.Faces;

/// <summary>
/// face-api.js's tiny face detector, a Tiny-YOLOv2-style network (193,321 parameters) that maps a normalised
/// (N, 3, S, S) picture, S a multiple of 32 (416 by default), to (N, 25, S/32, S/32) box encodings: 5 anchors × (tx, ty,
/// tw, th, objectness), channel a·5 + k. Batch norm is folded into the biases in the weights. Layers:
/// <code>
/// conv0     3×3 conv 3→16, no padding, + bias, leaky ReLU (0.1)        S−2
/// pool      max 2×2/2, TF "same"                                       ⌈(S−2)/2⌉
/// conv1..5  separable: 3×3 depthwise (pad 1) → 1×1 pointwise + bias → leaky ReLU; 16→32→64→128→256→512,
///           each but conv5 followed by max 2×2/2 "same"; conv5 by max 2×2 stride 1 "same"      S/32
/// conv8     1×1 conv 512→25 + bias, no activation
/// </code>
/// Sub-modules <c>conv0, conv1 … conv5</c> (each <c>depthwise</c>, <c>pointwise</c>), <c>conv8</c>, named as the TF.js tensors.
/// </summary>
public sealed class TinyFaceDetectorNetwork : Module
{
    /// <summary>Anchor boxes (width, height) in grid cells, in channel order, from the model's configuration.</summary>
    public static IReadOnlyList<(float Width, float Height)> Anchors { get; } =
        [(1.603231f, 2.094468f), (6.041143f, 7.080126f), (2.882459f, 3.518061f), (4.266906f, 5.178857f), (9.041765f, 10.66308f)];

    /// <summary>Numbers per anchor: tx, ty, tw, th, objectness (one class, no class scores).</summary>
    public const int BoxEncodingSize = 5;

    static readonly int[] Widths = [16, 32, 64, 128, 256, 512];

    readonly Conv2d conv0, conv8;
    readonly SeparableConv[] separable;
    readonly LeakyReLU leaky = new(0.1f);
    readonly MaxPool2d halve = MaxPool2d.Same(2), keep = MaxPool2d.Same(2, stride: 1);

    /// <summary>The network with zero weights; <see cref="Load"/> reads the pretrained ones.</summary>
    public TinyFaceDetectorNetwork()
    {
        conv0 = RegisterModule("conv0", new Conv2d(3, Widths[0], 3, padding: Padding.Valid));
        separable = [.. Enumerable.Range(1, 5).Select(i => RegisterModule($"conv{i}", new SeparableConv(Widths[i - 1], Widths[i])))];
        conv8 = RegisterModule("conv8", new Conv2d(Widths[^1], Anchors.Count * BoxEncodingSize, 1));
    }

    /// <summary>The network with the weights of <c>tiny_face_detector_model-weights_manifest.json</c> (and its <c>.bin</c>).</summary>
    public static TinyFaceDetectorNetwork Load(string manifestPath) => FromTfjs(TfjsWeights.Load(manifestPath));

    /// <summary>The network with weights read by <see cref="TfjsWeights"/>; throws when a tensor is missing, misshapen or extra.</summary>
    public static TinyFaceDetectorNetwork FromTfjs(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var network = new TinyFaceDetectorNetwork();
        var map = new TfjsWeightMap(tensors, "tiny face detector");
        TfjsWeightMap.Load(network.conv0, map.Filter("conv0/filters", 3, 3, Widths[0]), map.Take("conv0/bias", Widths[0]));
        for (int i = 1; i <= 5; i++)
        {
            int inChannels = Widths[i - 1], outChannels = Widths[i];
            TfjsWeightMap.Load(network.separable[i - 1].Depthwise, map.DepthwiseFilter($"conv{i}/depthwise_filter", 3, inChannels), null);
            TfjsWeightMap.Load(network.separable[i - 1].Pointwise, map.Filter($"conv{i}/pointwise_filter", 1, inChannels, outChannels), map.Take($"conv{i}/bias", outChannels));
        }
        TfjsWeightMap.Load(network.conv8, map.Filter("conv8/filters", 1, Widths[^1], 25), map.Take("conv8/bias", 25));
        map.CheckAllUsed();
        network.Eval();
        return network;
    }

    /// <param name="input">(N, 3, S, S), S a multiple of 32, normalised as <see cref="FaceDetector"/> does</param>
    /// <returns>(N, 25, S/32, S/32)</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != 3 || input.Shape[2] != input.Shape[3] || input.Shape[2] % 32 != 0 || input.Shape[2] == 0)
            throw new ArgumentException($"TinyFaceDetectorNetwork: expected an input of shape (N, 3, S, S) with S a multiple of 32, got [{string.Join(", ", input.Shape)}].");
        var x = halve.Forward(leaky.Forward(conv0.Forward(input)));
        for (int i = 0; i < separable.Length; i++)
        {
            x = leaky.Forward(separable[i].Forward(x));
            x = (i < separable.Length - 1 ? halve : keep).Forward(x);
        }
        return conv8.Forward(x);
    }

    /// <summary>A depthwise 3×3 convolution (zero padding 1, no bias) followed by a pointwise 1×1 convolution with bias.</summary>
    sealed class SeparableConv : Module
    {
        public Conv2d Depthwise { get; }
        public Conv2d Pointwise { get; }

        public SeparableConv(int inChannels, int outChannels)
        {
            Depthwise = RegisterModule("depthwise", new Conv2d(inChannels, inChannels, 3, padding: 1, groups: inChannels, bias: false));
            Pointwise = RegisterModule("pointwise", new Conv2d(inChannels, outChannels, 1));
        }

        protected override Tensor ForwardCore(Tensor input) => Pointwise.Forward(Depthwise.Forward(input));
    }
}
