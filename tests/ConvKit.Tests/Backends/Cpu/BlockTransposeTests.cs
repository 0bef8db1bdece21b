using ConvKit.Backends.Cpu;

namespace ConvKit.Tests.Backends.Cpu;

/// <summary>The 8×8-block transpose against its definition, on sizes with and without ragged edges and padded rows.</summary>
public class BlockTransposeTests
{
    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(8, 8, 8, 8)]
    [InlineData(16, 24, 24, 16)]
    [InlineData(13, 21, 30, 17)]
    [InlineData(7, 40, 40, 9)]
    [InlineData(33, 5, 11, 35)]
    public void TransposesEveryElement(int rows, int columns, int sourceLd, int destinationLd)
    {
        var source = Enumerable.Range(0, (rows - 1) * sourceLd + columns).Select(v => (float)v).ToArray();
        var destination = Enumerable.Repeat(-1f, (columns - 1) * destinationLd + rows).ToArray();
        BlockTranspose.Run(source, sourceLd, rows, columns, destination, destinationLd);
        for (int c = 0; c < columns; c++)
            for (int r = 0; r < destinationLd && c * destinationLd + r < destination.Length; r++)
                Assert.Equal(r < rows ? source[r * sourceLd + c] : -1f, destination[c * destinationLd + r]);
    }
}
