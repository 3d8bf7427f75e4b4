{%- from "map.jinja" import app, defaults with context %}
show-app:
  test.nop:
    - name: {{ salt['slsutil.serialize']('json', app) | yaml_dquote }}
show-defaults:
  test.nop:
    - name: {{ salt['slsutil.serialize']('yaml', defaults) | yaml_dquote }}
net:
  test.nop:
    - name: {{ salt['network.calc_net']('10.1.2.3', '255.255.0.0') }}
    - in_subnet: {{ salt['network.ip_in_subnet']('10.1.2.3', '10.0.0.0/8') }}
version:
  test.nop:
    - name: saltversioninfo-{{ grains['saltversioninfo'][0] }}
    - new_enough: {{ grains['saltversioninfo'] >= [3001] }}
{%- if salt['grains.has_value']('os_family') and salt['config.get']('nope', 'x') == 'x' %}
lookups:
  test.nop:
    - name: {{ salt['config.get']('app:lookup:port') }}
    - states: {{ salt['cp.list_states']() | json }}
{%- endif %}
testflag:
  test.nop:
    - name: test-{{ salt['config.get']('test') }}-{{ opts['test'] }}
