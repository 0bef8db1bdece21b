namespace ConvKit.NN;

/// <summary>Configuration checks and initialisation shared by the convolution layers; messages name the layer and the bad value.</summary>
static class LayerChecks
{
    public static void Channels(string layer, int inChannels, int outChannels, int groups, bool checkOutGroups)
    {
        if (inChannels < 1) throw new ArgumentException($"{layer}: inChannels must be positive, got {inChannels}.");
        if (outChannels < 1) throw new ArgumentException($"{layer}: outChannels must be positive, got {outChannels}.");
        if (groups < 1) throw new ArgumentException($"{layer}: groups must be positive, got {groups}.");
        if (inChannels % groups != 0) throw new ArgumentException($"{layer}: groups ({groups}) must divide inChannels ({inChannels}).");
        if (checkOutGroups && outChannels % groups != 0) throw new ArgumentException($"{layer}: groups ({groups}) must divide outChannels ({outChannels}).");
    }

    public static void Positive(string layer, string name, Size2 size)
    {
        if (size.Height < 1 || size.Width < 1) throw new ArgumentException($"{layer}: {name} must be positive, got {size}.");
    }

    public static void NonNegative(string layer, string name, Size2 size)
    {
        if (size.Height < 0 || size.Width < 0) throw new ArgumentException($"{layer}: {name} must not be negative, got {size}.");
    }

    /// <summary>Values drawn uniformly from [−bound, bound).</summary>
    public static Tensor Uniform(int[] shape, float bound, Random random) => Tensor.Rand(shape, random) * (2 * bound) - bound;
}
