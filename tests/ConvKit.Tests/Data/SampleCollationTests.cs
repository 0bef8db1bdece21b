using ConvKit.Data;
using ConvKit.Data.Transforms;

namespace ConvKit.Tests.Data;

/// <summary>The loader's collation of whole samples: boxes kept per picture, masks stacked, sizes checked.</summary>
public class SampleCollationTests
{
    /// <summary>Pictures of <paramref name="sizes"/>; picture i holds i + 1 boxes of class i and a mask of i's.</summary>
    sealed class Boxed(params (int Height, int Width)[] sizes) : Dataset
    {
        public override int Count => sizes.Length;
        public override IReadOnlyList<string> Classes => ["a", "b", "c"];
        public override bool HasTargets => true;

        public override Sample GetSample(int index)
        {
            var (height, width) = sizes[index];
            var boxes = Enumerable.Range(0, index + 1).SelectMany(b => new float[] { b, b, b + 2, b + 3 }).ToArray();
            return new Sample(Tensor.Full([1, height, width], index)) with
            {
                Boxes = new BoundingBoxes(boxes, Enumerable.Repeat(index % 3, index + 1).ToArray(), BoxFormat.Xyxy, height, width),
                Mask = Tensor.Full([height, width], index % 3),
                Identity = 10 + index,
            };
        }
    }

    /// <summary>Doubles the picture's width (as a resize would) and its boxes' x coordinates.</summary>
    sealed class Widen : ISampleTransform
    {
        public Sample Apply(Sample sample, Random random)
        {
            var image = DoubleColumns(sample.Image);
            var mask = DoubleColumns(sample.Mask!.Reshape(1, sample.Height, sample.Width)).Reshape(sample.Height, 2 * sample.Width);
            return sample with { Image = image, Mask = mask, Boxes = sample.Boxes!.Transform(2, 1, 0, 0, sample.Height, 2 * sample.Width) };
        }

        static Tensor DoubleColumns(Tensor planes)
        {
            var values = planes.ToArray();
            return Tensor.FromArray(values.SelectMany(v => new[] { v, v }).ToArray(), planes.Shape[0], planes.Shape[1], 2 * planes.Shape[2]);
        }
    }

    [Fact]
    public void BoxesStayPerPictureAndMasksAndIdentitiesStack()
    {
        var batch = new DataLoader(new Boxed((4, 6), (4, 6), (4, 6)), batchSize: 3).Single();
        Assert.Equal([3, 1, 4, 6], batch.Images.Shape);
        Assert.Equal([3, 4, 6], batch.Masks!.Shape);
        Assert.Equal(ConvKit.Backends.DType.Int32, batch.Masks.DType);
        Assert.Equal(ConvKit.Backends.DType.Int32, batch.Identities!.DType);
        Assert.Equal([10, 11, 12], batch.Identities.ToInt32Array());
        Assert.Equal(ConvKit.Backends.DType.Int32, batch.Labels.DType);
        Assert.Equal([1, 2, 3], batch.Boxes!.Select(b => b.Count));
        Assert.Equal([0f, 0, 2, 3, 1, 1, 3, 4], batch.Boxes![1].Coordinates.ToArray());
        Assert.Equal([2f, 2], batch.Masks.ToArray().Skip(2 * 24).Take(2));
        Assert.Equal(0, batch.Labels.Numel);
    }

    [Fact]
    public void ATransformThatMovesPixelsMovesBoxesAndMasksBeforeCollation()
    {
        var batch = new DataLoader(new Boxed((2, 3), (2, 3)), batchSize: 2, transform: new Widen()).Single();
        Assert.Equal([2, 1, 2, 6], batch.Images.Shape);
        Assert.Equal([2, 2, 6], batch.Masks!.Shape);
        Assert.Equal([0f, 0, 4, 2], batch.Boxes![0].Coordinates.ToArray()); // (0,0,2,3) doubled in x, clipped to the 2-row canvas
        Assert.Equal(6, batch.Boxes[0].CanvasWidth);
    }

    /// <summary>Halves the mask, as a bilinear resize would blend class indices.</summary>
    sealed class HalveMask : ISampleTransform
    {
        public Sample Apply(Sample sample, Random random) => sample with { Mask = sample.Mask! * 0.5f };
    }

    [Fact]
    public void AMaskThatHoldsNoClassIndexIsAClearError()
    {
        // Sample 0's mask is all 0 (halved, still 0); sample 1's is all 1, halved to 0.5: not a class.
        var error = Assert.Throws<InvalidOperationException>(() => new DataLoader(new Boxed((2, 3), (2, 3)), batchSize: 2, prefetch: 0, transform: new HalveMask()).Single());
        Assert.Contains("sample 1's mask holds 0.5 at position 0, not a class index", error.Message);
    }

    [Fact]
    public void PicturesOfDifferentSizesInOneBatchAreAClearError()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new DataLoader(new Boxed((4, 6), (5, 6)), batchSize: 2, prefetch: 0).Single());
        Assert.Contains("sample 1 has image shape [1, 5, 6] but sample 0 has [1, 4, 6]", error.Message);
        Assert.Contains("Resize", error.Message);
    }

    [Fact]
    public void BoxesOnAnotherCanvasThanTheImageAreAClearError()
    {
        var sample = new Sample(Tensor.Zeros(1, 4, 4)) { Boxes = BoundingBoxes.Empty(5, 4) };
        Assert.Contains("5×4 canvas but the image is 4×4", Assert.Throws<ArgumentException>(() => sample.Validate("test")).Message);
    }

    [Fact]
    public void ClassificationSetsKeepTheFastPathAndTheirLabels()
    {
        var numbered = DataLoaderTests.Numbered(4);
        var fast = new DataLoader(numbered, 4, transform: new RandomHorizontalFlip(1)).Single();
        var viaSamples = new DataLoader(numbered, 4, transform: new Compose(new Unchanged(), new RandomHorizontalFlip(1))).Single();
        Assert.Equal([0f, 1, 2, 0], fast.Labels.ToArray());
        Assert.Equal(fast.Labels.ToArray(), viaSamples.Labels.ToArray());
        Assert.Equal(fast.Images.ToArray(), viaSamples.Images.ToArray());
        Assert.Null(fast.Boxes);
    }

    /// <summary>A sample transform that changes nothing, so the loader must take the whole-sample path.</summary>
    sealed class Unchanged : ISampleTransform
    {
        public Sample Apply(Sample sample, Random random) => sample;
    }
}
