"""The op registry is complete and consistent: each record's pieces exist where they are looked up."""

import tflite

from tinygen.frontends.tflite_schema import CUSTOM_PREFIX, camel
from tinygen.ops import REGISTRY
from tinygen.resources import resource_dir

from .test_cstruct import params_classes


def test_every_record_names_a_real_tflite_op_and_options_table():
    for name, record in REGISTRY.items():
        custom = name.startswith(CUSTOM_PREFIX)
        assert record.internal or custom or name in tflite.utils.BUILTIN_OPCODE2NAME.values(), name
        assert not (custom and record.options.table), f"{name}: a custom op has flexbuffer options, not a table"
        assert list(record.options.flexbuffer) == sorted(record.options.flexbuffer), f"{name}: keys in map order"
        if record.options.table:
            table = getattr(tflite, record.options.table)()
            for field in record.options.fields:
                assert hasattr(table, camel(field)), (name, field)
        assert record.notes, f"{name} has no notes for the README's ops table"


def test_every_kernel_family_has_its_c_pair():
    firmware = resource_dir("firmware")
    for cls in params_classes().values():
        assert (firmware / cls.C_FILE).is_file() and (firmware / cls.C_FILE.replace(".c", ".h")).is_file(), cls


def test_quantizer_rules_name_slots_that_exist():
    for name, record in REGISTRY.items():
        rule = record.quantization
        if rule.weight_axis is not None:
            assert record.slot_of("weights") is not None, name
        if rule.bias_required:
            assert record.slot_of("bias") is not None, name
        assert rule.shared in ("none", "first", "all"), name
