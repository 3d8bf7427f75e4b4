{% set addrs = ['10.0.0.1', '::1', 'fe80::1', '8.8.8.8', 'nope', '192.168.1.5/24', '2001:db8::1'] %}
net:
  test.nop:
    - is_ip: {{ addrs | map('is_ip') | list | json }}
    - is_ipv4: {{ addrs | map('is_ipv4') | list | json }}
    - is_ipv6: {{ addrs | map('is_ipv6') | list | json }}
    - private: {{ ['10.0.0.1' | is_ip('private'), '8.8.8.8' | is_ipv4('private'), '8.8.8.8' | is_ipv4('public'), '::1' | is_ipv6('loopback')] | json }}
    - ipv4: {{ addrs | ipv4 | json }}
    - ipv6: {{ addrs | ipv6 | json }}
    - ipaddr: {{ addrs | ipaddr | json }}
    - ipaddr_one: {{ ['10.0.0.1' | ipaddr, 'nope' | ipaddr, '::1' | ipaddr] | json }}
    - ipaddr_opts: {{ addrs | ipaddr('loopback') | json }}
    - ip_host: {{ ['192.168.1.5/24' | ip_host, ['10.1.1.1/8', 'x'] | ip_host] | json }}
    - network_hosts: {{ '10.0.0.0/30' | network_hosts | json }}
    - network_size: {{ ['10.0.0.0/24' | network_size, ['10.0.0.0/30', '::/126'] | network_size] | json }}
    - ipwrap: {{ ['::1' | ipwrap, '10.0.0.1' | ipwrap, ['::1', 'x'] | ipwrap] | json }}
