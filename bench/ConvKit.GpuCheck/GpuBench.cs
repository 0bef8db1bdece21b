namespace ConvKit.GpuCheck;

static class GpuBench
{
    public static int Run(string[] args) => throw new NotImplementedException("pending");
}
