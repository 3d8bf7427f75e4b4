from_pillar:
  test.succeed_without_changes:
    - comment: {{ pillar['app']['port'] }} {{ pillar['app']['name'] }}
from_grains:
  test.succeed_without_changes:
    - comment: {{ grains['id'] }}
from_opts:
  test.succeed_without_changes:
    - comment: {{ opts['id'] }} test={{ opts['test'] }}
