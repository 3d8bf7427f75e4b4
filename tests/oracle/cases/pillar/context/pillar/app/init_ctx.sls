{% import_yaml './defaults.yaml' as defaults with context %}
ctx:
  names: {{ [sls, tplfile, tpldir, tpldot, slspath, slsdotpath, slscolonpath, sls_path, saltenv] | json }}
  tplpath: {{ tplpath }}
  ping: {{ salt['test.ping']() }}
  grain: {{ grains['id'] }}
  opt: {{ opts['id'] }}
  defaults: {{ defaults | json }}
  has_pillar: {{ pillar is mapping }}
