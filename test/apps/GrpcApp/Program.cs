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
builder.Services.AddGrpcHealthChecks().AddGracefulRestartChecks();

var app = builder.Build();
app.MapGrpcService<TickerService>();
app.MapGrpcHealthChecksService();
app.Run();
