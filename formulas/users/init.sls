{#- Local accounts from pillar:

      groups:        [name, {name: gid}, ...]       groups to create
      users:         {name: {uid, gid, fullname, shell, home, groups}}
      users_absent:  [name, ...]                    accounts to remove (and their homes)

    Users are created after the groups they join; a user leaving the pillar
    is not removed until it is listed in users_absent. -#}
{%- set groups = salt['pillar.get']('groups', []) %}
{%- set users = salt['pillar.get']('users', {}) %}
{%- set absent = salt['pillar.get']('users_absent', []) %}
{%- set declared = [] %}

{%- for entry in groups %}
{%-   if entry is mapping %}
{%-     set name, gid = (entry | dictsort)[0] %}
{%-   else %}
{%-     set name, gid = entry, None %}
{%-   endif %}
{%-   do declared.append(name) %}

users-group-{{ name }}:
  group.present:
    - name: {{ name }}
{%-   if gid is not none %}
    - gid: {{ gid }}
{%-   endif %}
{%- endfor %}

{%- for name, user in users | dictsort %}
{%-   set home = user.get('home', '/home/' ~ name) %}

users-{{ name }}:
  user.present:
    - name: {{ name }}
{%-   for key in ('uid', 'gid', 'fullname', 'shell') %}
{%-     if user.get(key) is not none %}
    - {{ key }}: {{ user[key] | json }}
{%-     endif %}
{%-   endfor %}
    - home: {{ home }}
    - createhome: True
    - groups: {{ user.get('groups', []) | json }}
{%-   set needed = user.get('groups', []) | select('in', declared) | list %}
{%-   if needed %}
    - require:
{%-     for group in needed %}
      - group: users-group-{{ group }}
{%-     endfor %}
{%-   endif %}

users-{{ name }}-home:
  file.directory:
    - name: {{ home }}
    - user: {{ name }}
    - group: {{ user.get('gid', name) }}
    - mode: '0750'
    - makedirs: True
    - require:
      - user: users-{{ name }}
{%- endfor %}

{%- for name in absent %}

users-absent-{{ name }}:
{%-   if name in users %}
  test.fail_without_changes:
    - name: {{ name }} is in both pillar users and users_absent; remove it from one
{%-   else %}
  user.absent:
    - name: {{ name }}
    - purge: True
{%-   endif %}
{%- endfor %}
