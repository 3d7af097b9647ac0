using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GracefulHosting.Hosting;

/// <summary>
/// The default container, plus one step before it is built: <see cref="GracefulRestartSetup.Apply"/>.
/// A service provider factory is the one hook that sees the app's final service collection.
/// </summary>
internal sealed class GracefulServiceProviderFactory : IServiceProviderFactory<IServiceCollection>
{
    private readonly GracefulRestartSetup _setup;
    private readonly HostBuilderContext _context;

    public GracefulServiceProviderFactory(GracefulRestartSetup setup, HostBuilderContext context)
    {
        _setup = setup;
        _context = context;
    }

    public IServiceCollection CreateBuilder(IServiceCollection services)
    {
        _setup.Apply(services, _context.Configuration);
        return services;
    }

    public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder)
    {
        bool development = _context.HostingEnvironment.IsDevelopment();
        return containerBuilder.BuildServiceProvider(new ServiceProviderOptions
        {
            ValidateScopes = development,
            ValidateOnBuild = development,
        });
    }
}
