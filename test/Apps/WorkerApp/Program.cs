using GracefulHosting;
using WorkerApp;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddGracefulRestart();
builder.Services.AddHostedService<Worker>();

var host = builder.Build();
var graceful = host.Services.GetRequiredService<IGracefulRestartContext>();
host.Services.GetRequiredService<ILogger<Worker>>().LogInformation("Worker host pid {Pid} runs as {Role}", Environment.ProcessId, graceful.Role);
host.Run();
