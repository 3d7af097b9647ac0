using Microsoft.Extensions.Options;

namespace GracefulHosting.Hosting;

// The options were bound and validated once, when the role was chosen; every consumer sees that value.
internal sealed class BoundOptionsFactory(GracefulRestartOptions options) : IOptionsFactory<GracefulRestartOptions>
{
    public GracefulRestartOptions Create(string name) =>
        name == Options.DefaultName
            ? options
            : throw new InvalidOperationException($"{nameof(GracefulRestartOptions)} has no named instances (asked for '{name}').");
}
