using GracefulHosting;
using OpenTelemetry.Metrics;
using TelemetryApp;

// Before Build() the process knows whether a master started it.
Console.WriteLine($"Starting pid {Environment.ProcessId}: child={GracefulRestartProcess.IsChild}, generation={GracefulRestartProcess.Generation}");

var builder = WebApplication.CreateBuilder(args);

// Journal log format when the app runs as a systemd service.
builder.Host.UseSystemd();
builder.Host.UseDefaultServiceProvider(options =>
{
    options.ValidateScopes = true;
    options.ValidateOnBuild = true;
});
builder.Services.AddGracefulRestart();

// The master's GracefulHosting meter, exported by OpenTelemetry; ExportReporter logs what arrives.
var exported = new ExportedMetrics();
builder.Services.AddSingleton(exported);
builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
    .AddMeter("GracefulHosting")
    .AddInMemoryExporter(exported, reader => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 200));
builder.Services.AddGracefulRestartMasterService<ExportReporter>();
builder.Services.AddHostedService<Heartbeat>();
builder.Services.AddScoped<RequestScope>();

var app = builder.Build();

// Start-up work with side effects runs once per generation, never in the master.
var graceful = app.Services.GetRequiredService<IGracefulRestartContext>();
if (graceful.RunsApp)
{
    app.Logger.LogInformation("Migrating in pid {Pid}: role {Role}, generation {Generation}",
        Environment.ProcessId, graceful.Role, graceful.Generation);
}

app.MapGet("/", (IConfiguration configuration, RequestScope scope) =>
    $"release={configuration["Release"]} pid={Environment.ProcessId} generation={graceful.Generation} scope={scope.Id}\n");

// Scope validation (UseDefaultServiceProvider) is on: resolving a scoped service from the root fails.
app.MapGet("/scopes", () =>
{
    try
    {
        app.Services.GetRequiredService<RequestScope>();
        return "scopes not validated\n";
    }
    catch (InvalidOperationException)
    {
        return "scopes validated\n";
    }
});

app.Run();
