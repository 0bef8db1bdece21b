using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Faces;

/// <summary>
/// The 128-d face encoder of face-api.js: dlib's face-recognition ResNet (29 convolutions + a dense layer, 5.6 M
/// parameters), trained by Davis King with a metric loss so that two pictures of one person lie within 0.6 of each
/// other. Maps a normalised (N, 3, 150, 150) face to (N, 128) encodings (not L2-normalised; norms are about 1.4).
/// <code>
/// stem       7×7 conv 3→32 stride 2, no padding, ReLU; max 3×3/2 no padding          72 → 35
/// 3 × block(32)                                                                       35
/// down(64),  3 × block(64)                                                            17
/// down(128), 2 × block(128)                                                           8
/// down(256), 2 × block(256), down(256)                                                4, 2
/// mean over the 2×2 positions, then 256 → 128 dense without bias
/// </code>
/// Each convolution is followed in the weights by a per-channel affine (dlib's folded batch norm, <c>scale/weights</c>
/// and <c>scale/biases</c>); it is folded into the convolution here: W' = W·s, b' = b·s + t. See
/// <see cref="FaceResidualBlock"/> for the blocks. Sub-modules are named as the TF.js tensors (<c>conv32_down</c>,
/// <c>conv32_1</c>, …, <c>conv256_down_out</c>, <c>fc</c>).
/// </summary>
public sealed class FaceEncoderNetwork : Module
{
    /// <summary>The side of the square face picture the network takes.</summary>
    public const int InputSize = 150;

    /// <summary>Numbers in an encoding.</summary>
    public const int EncodingSize = 128;

    readonly Conv2d stem;
    readonly FaceResidualBlock[] blocks;
    readonly Linear fc;

    // (name, in, out, down): the blocks in order.
    static readonly (string Name, int In, int Out, bool Down)[] Layout =
    [
        ("conv32_1", 32, 32, false), ("conv32_2", 32, 32, false), ("conv32_3", 32, 32, false),
        ("conv64_down", 32, 64, true), ("conv64_1", 64, 64, false), ("conv64_2", 64, 64, false), ("conv64_3", 64, 64, false),
        ("conv128_down", 64, 128, true), ("conv128_1", 128, 128, false), ("conv128_2", 128, 128, false),
        ("conv256_down", 128, 256, true), ("conv256_1", 256, 256, false), ("conv256_2", 256, 256, false),
        ("conv256_down_out", 256, 256, true),
    ];

    /// <summary>The network with zero weights; <see cref="Load"/> reads the pretrained ones.</summary>
    public FaceEncoderNetwork()
    {
        stem = RegisterModule("conv32_down", new Conv2d(3, 32, 7, stride: 2, padding: Padding.Valid));
        blocks = [.. Layout.Select(b => RegisterModule(b.Name, new FaceResidualBlock(b.In, b.Out, b.Down)))];
        fc = RegisterModule("fc", new Linear(256, EncodingSize, bias: false));
    }

    /// <summary>The network with the weights of <c>face_recognition_model-weights_manifest.json</c> (and its <c>.bin</c>).</summary>
    public static FaceEncoderNetwork Load(string manifestPath) => FromTfjs(TfjsWeights.Load(manifestPath));

    /// <summary>The network with weights read by <see cref="TfjsWeights"/>; throws when a tensor is missing, misshapen or extra.</summary>
    public static FaceEncoderNetwork FromTfjs(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var network = new FaceEncoderNetwork();
        var map = new TfjsWeightMap(tensors, "face encoder");
        LoadAffineConv(map, "conv32_down", network.stem);
        foreach (var (block, (name, _, _, _)) in network.blocks.Zip(Layout))
        {
            LoadAffineConv(map, $"{name}/conv1", block.Conv1);
            LoadAffineConv(map, $"{name}/conv2", block.Conv2);
        }
        using (Tensor.NoGrad()) network.fc.Weight.CopyFrom(map.Take("fc", 256, EncodingSize).Transpose(0, 1));
        map.CheckAllUsed();
        network.Eval();
        return network;
    }

    /// <summary>Loads <c>P/conv/filters</c>, <c>P/conv/bias</c> with <c>P/scale/weights</c> and <c>P/scale/biases</c> folded in.</summary>
    static void LoadAffineConv(TfjsWeightMap map, string prefix, Conv2d conv)
    {
        int outChannels = conv.OutChannels;
        var filter = map.Filter($"{prefix}/conv/filters", conv.KernelSize.Height, conv.InChannels, outChannels);
        var bias = map.Take($"{prefix}/conv/bias", outChannels);
        var scale = map.Take($"{prefix}/scale/weights", outChannels);
        var shift = map.Take($"{prefix}/scale/biases", outChannels);
        TfjsWeightMap.Load(conv, filter * scale.Reshape(outChannels, 1, 1, 1), bias * scale + shift);
    }

    /// <param name="input">(N, 3, 150, 150), normalised as <see cref="FaceEncoder"/> does</param>
    /// <returns>(N, 128)</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != 3 || input.Shape[2] != InputSize || input.Shape[3] != InputSize)
            throw new ArgumentException($"FaceEncoderNetwork: expected an input of shape (N, 3, {InputSize}, {InputSize}), got [{string.Join(", ", input.Shape)}].");
        var x = F.MaxPool2d(F.Relu(stem.Forward(input)), 3, stride: 2);
        foreach (var block in blocks) x = block.Forward(x);
        return fc.Forward(F.Flatten(F.GlobalAvgPool2d(x), 1));
    }
}
