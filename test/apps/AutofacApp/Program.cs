using Autofac;
using Autofac.Extensions.DependencyInjection;
using AutofacApp;

var builder = WebApplication.CreateBuilder(args);

// Both orders work. One build shows both: GracefulFirst=true in configuration picks the first.
if (builder.Configuration.GetValue<bool>("GracefulFirst"))
{
    builder.Host.UseGracefulRestart();
    builder.Host.UseServiceProviderFactory(new AutofacServiceProviderFactory());
    builder.Host.ConfigureContainer<ContainerBuilder>(container => container.RegisterModule<GreetingModule>());
}
else
{
    builder.Host.UseServiceProviderFactory(new AutofacServiceProviderFactory());
    builder.Host.ConfigureContainer<ContainerBuilder>(container => container.RegisterModule<GreetingModule>());
    builder.Host.UseGracefulRestart();
}

builder.Services.AddHostedService<Worker>();

var app = builder.Build();

app.MapGet("/", (Greeter greeter, IServiceProvider services) =>
    $"{greeter.Greet()} from {services.GetType().Name}, pid={Environment.ProcessId}\n");

app.Run();

/// <summary>Makes the generated Program class visible to WebApplicationFactory tests.</summary>
public partial class Program;
