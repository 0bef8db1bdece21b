namespace ConvKit.GpuCheck;

static class FixtureRunner
{
    public static int Run(string[] args) => throw new NotImplementedException("pending");
}
