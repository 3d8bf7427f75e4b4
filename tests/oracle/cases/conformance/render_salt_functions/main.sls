echo:
  test.succeed_without_changes:
    - comment: {{ salt['test.echo']('hello there') }}
echo_attr:
  test.succeed_without_changes:
    - comment: {{ salt.test.echo('by attribute') }}
pillar_get:
  test.succeed_without_changes:
    - comment: {{ salt['pillar.get']('app:name') }}/{{ salt['pillar.get']('app:nothere', 'fallback') }}
grains_get:
  test.succeed_without_changes:
    - comment: {{ salt['grains.get']('tmp') }}
