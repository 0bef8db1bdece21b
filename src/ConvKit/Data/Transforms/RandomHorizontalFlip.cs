namespace ConvKit.Data.Transforms;

/// <summary>Mirrors the image left to right with probability <see cref="P"/>, as torchvision.transforms.RandomHorizontalFlip.</summary>
public sealed class RandomHorizontalFlip : ITransform
{
    public RandomHorizontalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, $"RandomHorizontalFlip: p must be in [0, 1], not {p}.");
        P = p;
    }

    public double P { get; }

    public void Apply(Span<float> image, IReadOnlyList<int> shape, Random random)
    {
        if (random.NextDouble() >= P) return;
        int rows = shape[0] * shape[1], width = shape[2];
        for (int r = 0; r < rows; r++) image.Slice(r * width, width).Reverse();
    }
}
