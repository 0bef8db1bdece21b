using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Faces;

/// <summary>
/// A residual block of dlib's face ResNet (<see cref="FaceEncoderNetwork"/>), two 3×3 convolutions (each with its
/// affine folded in) and a shortcut without parameters:
/// <list type="bullet">
/// <item>identity block: a = ReLU(conv1(x)), b = conv2(a), both stride 1 with padding 1; output ReLU(b + x).</item>
/// <item>down block: conv1 has stride 2 and no padding; the shortcut is a 2×2/2 average pool of x with zero channels
/// appended (32 → 64 …); where the main path came out smaller than the pooled shortcut (8 → 3 against 4, 4 → 1 against
/// 2), zero rows and columns are appended to it at the bottom and right; output ReLU(b + shortcut).</item>
/// </list>
/// Sub-modules <c>conv1</c>, <c>conv2</c>.
/// </summary>
public sealed class FaceResidualBlock : Module
{
    /// <summary>The first convolution (stride 2, no padding in a down block).</summary>
    public Conv2d Conv1 { get; }
    /// <summary>The second convolution (stride 1, padding 1).</summary>
    public Conv2d Conv2 { get; }
    /// <summary>Whether this block halves the picture and pools its shortcut.</summary>
    public bool Down { get; }

    /// <summary>A block from <paramref name="inChannels"/> to <paramref name="outChannels"/>; a down block when <paramref name="down"/>.</summary>
    public FaceResidualBlock(int inChannels, int outChannels, bool down)
    {
        if (!down && inChannels != outChannels)
            throw new ArgumentException($"FaceResidualBlock: an identity block keeps its channels, got {inChannels} → {outChannels}.");
        if (outChannels < inChannels)
            throw new ArgumentException($"FaceResidualBlock: a down block cannot drop channels, got {inChannels} → {outChannels}.");
        Down = down;
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, stride: down ? 2 : 1, padding: down ? Padding.Valid : 1));
        Conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, padding: 1));
    }

    /// <param name="input">(N, in, H, W)</param>
    /// <returns>(N, out, H, W), or (N, out, ⌊H/2⌋, ⌊W/2⌋) for a down block</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        var main = Conv2.Forward(F.Relu(Conv1.Forward(input)));
        if (!Down) return F.Relu(main + input);
        var shortcut = F.AvgPool2d(input, 2);
        int extraChannels = main.Shape[1] - shortcut.Shape[1];
        if (extraChannels > 0) shortcut = F.Pad(shortcut, [0, 0, 0, 0, 0, extraChannels]);
        int extraRows = shortcut.Shape[2] - main.Shape[2], extraColumns = shortcut.Shape[3] - main.Shape[3];
        if (extraRows > 0 || extraColumns > 0) main = F.Pad(main, [0, extraColumns, 0, extraRows]);
        return F.Relu(main + shortcut);
    }
}
