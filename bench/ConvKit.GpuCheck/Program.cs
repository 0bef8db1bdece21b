// The GPU check: `fixtures [--device cuda|ilgpu-cpu]` runs the backend-parameterised fixture suite on a GPU backend;
// `bench [--device cuda|ilgpu-cpu|cpu]` times the GPU suite beside PyTorch on the same device in the same run.
using ConvKit.GpuCheck;

string command = args.Length > 0 ? args[0] : "";
return command switch
{
    "fixtures" => FixtureRunner.Run(args[1..]),
    "bench" => GpuBench.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ConvKit.GpuCheck fixtures [--device cuda|ilgpu-cpu] | bench [--device cuda|ilgpu-cpu|cpu]");
    return 2;
}
