"""Lighthouse bundles and blueprints the sandbox offers (DescribeBundles,
DescribeBlueprints).  Ids follow the real formats; prices are sandbox data
(CNY per month) and feed Billing.
"""

# BundleId, CPU, Memory GB, disk GB, traffic GB, Mbps, CNY/month, type, windows, state
_BUNDLES = [
    ("bundle_starter_mc_med2_02", 2, 2, 50, 512, 4, 40.0, "STARTER_BUNDLE", False, "AVAILABLE"),
    ("bundle_gen_mc_med4_02", 2, 4, 80, 1024, 6, 90.0, "GENERAL_BUNDLE", True, "AVAILABLE"),
    ("bundle_gen_mc_large8_02", 4, 8, 120, 1536, 8, 180.0, "GENERAL_BUNDLE", True, "AVAILABLE"),
    ("bundle_starter_mc_small1_01", 1, 1, 40, 300, 3, 25.0, "STARTER_BUNDLE", False, "SOLD_OUT"),
]

# BlueprintId, title, version, os name, platform, platform type, type, TAT agent, min memory GB
_BLUEPRINTS = [
    ("lhbp-a1ubu224", "Ubuntu", "22.04 LTS", "Ubuntu Server 22.04 LTS 64bit", "UBUNTU",
     "LINUX_UNIX", "PURE_OS", True, 1),
    ("lhbp-d1deb120", "Debian", "12", "Debian 12 64bit", "DEBIAN", "LINUX_UNIX", "PURE_OS", True, 1),
    ("lhbp-c1cen790", "CentOS", "7.9", "CentOS 7.9 64bit", "CENTOS", "LINUX_UNIX", "PURE_OS", True, 1),
    ("lhbp-k1dock26", "Docker CE", "26.1", "Ubuntu Server 22.04 LTS 64bit", "UBUNTU",
     "LINUX_UNIX", "DOCKER", True, 2),
    ("lhbp-f1fbsd13", "FreeBSD", "13.3", "FreeBSD 13.3 64bit", "FREEBSD", "LINUX_UNIX",
     "PURE_OS", False, 1),
    ("lhbp-w1win22d", "Windows Server", "2022 DataCenter", "Windows Server 2022 DataCenter 64bit",
     "WINDOWS", "WINDOWS", "PURE_OS", True, 2),
]

BUNDLES = {}
for (_id, _cpu, _mem, _disk, _traffic, _bw, _price, _type, _win, _state) in _BUNDLES:
    BUNDLES[_id] = {
        "BundleId": _id, "Memory": _mem, "SystemDiskType": "CLOUD_SSD", "SystemDiskSize": _disk,
        "MonthlyTraffic": _traffic, "SupportLinuxUnixPlatform": True,
        "SupportWindowsPlatform": _win,
        "Price": {"InstancePrice": {"OriginalBundlePrice": _price, "OriginalPrice": _price,
                                    "Discount": 100, "DiscountPrice": _price, "Currency": "CNY"}},
        "CPU": _cpu, "InternetMaxBandwidthOut": _bw, "InternetChargeType": "FLOW_PACKAGE",
        "BundleSalesState": _state, "BundleType": _type,
        "BundleTypeDescription": "Starter" if _type == "STARTER_BUNDLE" else "General",
        "BundleDisplayLabel": "", "TrafficUnlimited": False}

BLUEPRINTS = {}
for (_id, _title, _ver, _os, _plat, _ptype, _btype, _tat, _minmem) in _BLUEPRINTS:
    BLUEPRINTS[_id] = {
        "BlueprintId": _id, "DisplayTitle": _title, "DisplayVersion": _ver,
        "Description": "%s %s" % (_title, _ver), "OsName": _os, "Platform": _plat,
        "PlatformType": _ptype, "BlueprintType": _btype, "ImageUrl": "",
        "RequiredSystemDiskSize": 20 if _ptype == "LINUX_UNIX" else 40,
        "BlueprintState": "NORMAL", "CreatedTime": "2024-01-01T00:00:00Z",
        "BlueprintName": "%s %s" % (_title, _ver), "SupportAutomationTools": _tat,
        "RequiredMemorySize": _minmem, "ImageId": "img-%s" % _id[5:], "CommunityUrl": "",
        "GuideUrl": "", "SceneIdSet": [], "DockerVersion": "26.1" if _btype == "DOCKER" else "",
        "BlueprintShared": False, "Tags": []}


def price(bundle_id):
    return BUNDLES[bundle_id]["Price"]["InstancePrice"]["DiscountPrice"]
