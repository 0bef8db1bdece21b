namespace ConvKit.Data.Transforms;

/// <summary>
/// An in-place change of one image (C, H, W) that keeps its shape, applied by the <see cref="DataLoader"/> to each
/// sample (torchvision.transforms). Random transforms draw from the Random they are given, which the loader seeds
/// per sample and epoch, so an augmented batch does not depend on thread timing.
/// </summary>
public interface ITransform : ISampleTransform
{
    /// <param name="image">C·H·W values, row-major</param>
    /// <param name="shape">(C, H, W)</param>
    void Apply(Span<float> image, IReadOnlyList<int> shape, Random random);

    /// <summary>On a whole sample: a changed copy of the image; labels, boxes and mask stay (override to move them).</summary>
    Sample ISampleTransform.Apply(Sample sample, Random random)
    {
        var values = sample.Image.ToArray();
        Apply(values, sample.Image.Shape, random);
        return sample with { Image = Tensor.FromArray(values, [.. sample.Image.Shape]) };
    }
}

/// <summary>
/// Applies transforms one after the other. As an in-place <see cref="ITransform"/> (the loader's fast path for
/// fixed-size labelled pictures) it needs every part to be one (<see cref="IsInPlace"/>).
/// </summary>
public sealed class Compose(params ISampleTransform[] transforms) : ITransform
{
    /// <summary>The parts, applied in this order.</summary>
    public IReadOnlyList<ISampleTransform> Transforms { get; } = transforms;

    /// <summary>Whether every part only changes the image in place (no resize, no boxes to move).</summary>
    public bool IsInPlace => Transforms.All(InPlace);

    /// <summary>Whether <paramref name="transform"/> only changes the image in place (a nested Compose: all of its parts).</summary>
    internal static bool InPlace(ISampleTransform transform) => transform is ITransform and not Compose { IsInPlace: false };

    /// <inheritdoc/>
    public void Apply(Span<float> image, IReadOnlyList<int> shape, Random random)
    {
        foreach (var transform in Transforms)
            if (transform is ITransform inPlace) inPlace.Apply(image, shape, random);
            else throw new InvalidOperationException($"Compose: {transform.GetType().Name} changes the whole sample and cannot run on an image alone.");
    }

    /// <inheritdoc/>
    public Sample Apply(Sample sample, Random random)
    {
        foreach (var transform in Transforms) sample = transform.Apply(sample, random);
        return sample;
    }
}
