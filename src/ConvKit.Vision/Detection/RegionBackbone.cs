using ConvKit.NN;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The small shared backbone of <see cref="FastRCnn"/> and <see cref="FasterRCnn"/>: four 3×3 conv-bn-relu blocks
/// (16, 32, 64, 128 channels) with a 2×2 max-pool after each of the first three, so the feature map is stride 8
/// (16×16 cells for a 128×128 picture) — fine enough for the 28–70-pixel objects of the Fashion-MNIST scenes. Laid
/// out as a <see cref="Sequential"/> (<c>0.conv</c>, <c>0.bn</c>, <c>1</c> the pool, …), so any picture size works.
/// </summary>
public static class RegionBackbone
{
    /// <summary>The backbone's stride (input pixels per feature-map cell).</summary>
    public const int Stride = 8;

    /// <summary>The feature map's channels.</summary>
    public const int Channels = 128;

    /// <summary>A fresh backbone for pictures of <paramref name="inChannels"/> channels.</summary>
    public static Sequential Create(int inChannels)
    {
        var layers = new Sequential();
        int channels = inChannels;
        foreach (var (width, pool) in new[] { (16, true), (32, true), (64, true), (Channels, false) })
        {
            layers.Add(new ConvBnRelu(channels, width, 3, padding: 1));
            if (pool) layers.Add(new MaxPool2d(2));
            channels = width;
        }
        return layers;
    }
}
