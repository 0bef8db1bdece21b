namespace ConvKit.NN;

/// <summary>Configuration checks shared by the convolution layers; messages name the layer and the bad value.</summary>
static class ConvolutionChecks
{
    public static void Channels(string layer, int inChannels, int outChannels, int groups)
    {
        if (inChannels < 1) throw new ArgumentException($"{layer}: inChannels must be positive, got {inChannels}.");
        if (outChannels < 1) throw new ArgumentException($"{layer}: outChannels must be positive, got {outChannels}.");
        if (groups < 1) throw new ArgumentException($"{layer}: groups must be positive, got {groups}.");
        if (inChannels % groups != 0) throw new ArgumentException($"{layer}: groups ({groups}) must divide inChannels ({inChannels}).");
        if (outChannels % groups != 0) throw new ArgumentException($"{layer}: groups ({groups}) must divide outChannels ({outChannels}).");
    }

    public static void Positive(string layer, string name, Size2 size)
    {
        if (size.Height < 1 || size.Width < 1) throw new ArgumentException($"{layer}: {name} must be positive, got {size}.");
    }

    public static void NonNegative(string layer, string name, Size2 size)
    {
        if (size.Height < 0 || size.Width < 0) throw new ArgumentException($"{layer}: {name} must not be negative, got {size}.");
    }
}
