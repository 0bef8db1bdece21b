namespace ConvKit.Data.Transforms;

/// <summary>
/// An in-place change of one image (C, H, W) that keeps its shape, applied by the <see cref="DataLoader"/> to each
/// sample (torchvision.transforms). Random transforms draw from the Random they are given, which the loader seeds
/// per sample and epoch, so an augmented batch does not depend on thread timing.
/// </summary>
public interface ITransform
{
    /// <param name="image">C·H·W values, row-major</param>
    /// <param name="shape">(C, H, W)</param>
    void Apply(Span<float> image, IReadOnlyList<int> shape, Random random);
}

/// <summary>Applies transforms one after the other.</summary>
public sealed class Compose(params ITransform[] transforms) : ITransform
{
    public IReadOnlyList<ITransform> Transforms { get; } = transforms;

    public void Apply(Span<float> image, IReadOnlyList<int> shape, Random random)
    {
        foreach (var transform in Transforms) transform.Apply(image, shape, random);
    }
}
