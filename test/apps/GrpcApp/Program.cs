using Microsoft.Extensions.Diagnostics.HealthChecks;
using GrpcApp;

var builder = WebApplication.CreateBuilder(args);
builder.Host.UseGracefulRestart();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "[HH:mm:ss.fff] ";
});
builder.Services.AddGrpc();
// --health-cache=true: the health service answers from what the health check publisher last published
// (UseHealthChecksCache), which publishes at once on start and then every 30 s.
bool cache = builder.Configuration.GetValue<bool>("health-cache");
builder.Services.AddGrpcHealthChecks(grpc => grpc.UseHealthChecksCache = cache).AddGracefulRestartChecks();
if (cache)
{
    builder.Services.Configure<HealthCheckPublisherOptions>(publisher => publisher.Delay = TimeSpan.Zero);
}

var app = builder.Build();
app.MapGrpcService<TickerService>();
app.MapGrpcHealthChecksService();
app.Run();
