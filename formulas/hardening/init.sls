{#- A quick security baseline pushed across the fleet: password ageing, a
    login banner, kernel settings and sshd settings. Every file it touches
    restarts the watching service (pillar hardening:service, `ssh` on real
    hosts). Settings: hardening/defaults.yaml, overridden by pillar
    `hardening:`. -#}
{%- import_yaml "hardening/defaults.yaml" as defaults %}
{%- set hardening = salt['pillar.get']('hardening', default=defaults.hardening, merge=True) %}
{%- set guard = hardening.service == 'saline-guard' %}

hardening-login-defs:
  file.replace:
    - name: /etc/login.defs
    - pattern: '^\s*PASS_MAX_DAYS\s+\d+\s*$'
    - repl: 'PASS_MAX_DAYS	{{ hardening.pass_max_days }}'
    - append_if_not_found: True
    - backup: False
    - watch_in:
      - service: hardening-service

hardening-issue-net:
  file.append:
    - name: /etc/issue.net
    - text: {{ hardening.banner | json }}
    - watch_in:
      - service: hardening-service

hardening-sysctl:
  file.managed:
    - name: /etc/sysctl.d/99-saline.conf
    - user: root
    - group: root
    - mode: '0644'
    - makedirs: True
    - contents:
      - '# Managed by saline (hardening formula); local changes are overwritten.'
{%- for key, value in hardening.sysctl | dictsort %}
      - {{ (key ~ ' = ' ~ value) | json }}
{%- endfor %}
    - watch_in:
      - service: hardening-service

{#- Load the settings now where the host lets us (not in a container). #}
hardening-sysctl-load:
  cmd.run:
    - name: sysctl --load /etc/sysctl.d/99-saline.conf
    - onlyif: command -v sysctl && test -w /proc/sys/kernel/kptr_restrict
    - onchanges:
      - file: hardening-sysctl

{#- The drop-in may already hold the host's own settings: create it only if
    missing, then keep our block in it. #}
hardening-sshd-dropin:
  file.managed:
    - name: {{ hardening.sshd_config }}
    - user: root
    - group: root
    - mode: '0600'
    - makedirs: True
    - replace: False
    - contents: '# sshd settings of this host; the saline block is managed by the hardening formula.'

hardening-sshd-settings:
  file.blockreplace:
    - name: {{ hardening.sshd_config }}
    - marker_start: '# BEGIN saline hardening (managed: do not edit)'
    - marker_end: '# END saline hardening'
    - content: |
{%- for key, value in hardening.sshd | dictsort %}
        {{ key }} {{ value }}
{%- endfor %}
    - append_if_not_found: True
    - backup: False
    - require:
      - file: hardening-sshd-dropin
    - watch_in:
      - service: hardening-service

{#- sshd keeps the first value it reads for a keyword: drop the lines that
    set one of ours to something else, wherever they are. #}
{%- for key, value in hardening.sshd | dictsort %}

hardening-sshd-conflict-{{ key }}:
  file.line:
    - name: {{ hardening.sshd_config }}
    - mode: delete
    - match: '^\s*{{ key }}\s+(?!{{ value }}\s*$)'
    - require:
      - file: hardening-sshd-settings
    - watch_in:
      - service: hardening-service
{%- endfor %}

{%- if guard %}

hardening-guard-script:
  file.managed:
    - name: /etc/init.d/saline-guard
    - source: salt://hardening/files/saline-guard.init.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0755'
    - context:
        watched:
          - /etc/login.defs
          - /etc/issue.net
          - /etc/sysctl.d/99-saline.conf
          - {{ hardening.sshd_config }}
{%- endif %}

hardening-service:
  service.running:
    - name: {{ hardening.service }}
    - enable: True
{%- if guard %}
    - require:
      - file: hardening-guard-script
{%- endif %}
