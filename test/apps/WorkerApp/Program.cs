using GracefulHosting;
using WorkerApp;

IHost host;
if (args.Contains("--register-inside-host-builder"))
{
    // Host.CreateDefaultBuilder runs ConfigureServices during Build(), too late for the build hook:
    // such a host must stop at start with an error, never run without its role.
    host = Host.CreateDefaultBuilder(args)
        .ConfigureServices(services => services.AddGracefulRestart().AddHostedService<Worker>())
        .Build();
}
else
{
    var builder = Host.CreateApplicationBuilder(args);
    builder.Services.AddGracefulRestart();
    builder.Services.AddHostedService<Worker>();
    host = builder.Build();
}

var graceful = host.Services.GetRequiredService<IGracefulRestartContext>();
host.Services.GetRequiredService<ILogger<Worker>>().LogInformation("Worker host pid {Pid} runs as {Role}", Environment.ProcessId, graceful.Role);
host.Run();
